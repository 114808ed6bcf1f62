/*
 * mongo-one: upsert run records into the collection "runs" of the index's
 * database one at a time, for bench/b-mongo.sh: the plain client's way,
 * against which xt's bulk operations are measured.
 *
 *   mongo-one URI < RECORDS
 *   mongo-one -d URI          drop the URI's database (between rounds)
 *
 * Each line of stdin is a JSON object with "ws" and "run"; it replaces the
 * document of that ws and run, or is inserted (replace_one, upsert), one
 * round trip per line. Before the first, the index {ws: 1, run: 1} is made
 * (a client that upserts by those keys would have it). The password may
 * come from XT_INDEX_PASSWORD. Prints "N upserted"; exit 1 with
 * "mongo-one: ..." at the first line the server refuses or that is not
 * such an object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <mongoc/mongoc.h>

#define LINE_MAX_LEN ((size_t)1 << 20)

static void
quiet(mongoc_log_level_t level, const char *domain, const char *msg, void *arg)
{
	(void)level, (void)domain, (void)msg, (void)arg;
}

/* Upsert the record line; 0, or -1 with err set. */
static int
upsert(mongoc_collection_t *coll, const char *line, size_t len, bson_error_t *err)
{
	bson_t *doc, sel, *opts;
	bson_iter_t ws, run;
	int ok;

	if (!(doc = bson_new_from_json((const uint8_t *)line, (ssize_t)len, err)))
		return -1;
	if (!bson_iter_init_find(&ws, doc, "ws") || !BSON_ITER_HOLDS_UTF8(&ws) ||
	    !bson_iter_init_find(&run, doc, "run") || !BSON_ITER_HOLDS_UTF8(&run)) {
		bson_set_error(err, 0, 0, "expected \"ws\" and \"run\" strings");
		bson_destroy(doc);
		return -1;
	}
	bson_init(&sel);
	BSON_APPEND_UTF8(&sel, "ws", bson_iter_utf8(&ws, NULL));
	BSON_APPEND_UTF8(&sel, "run", bson_iter_utf8(&run, NULL));
	opts = BCON_NEW("upsert", BCON_BOOL(true));
	ok = mongoc_collection_replace_one(coll, &sel, doc, opts, NULL, err);
	bson_destroy(opts);
	bson_destroy(&sel);
	bson_destroy(doc);
	return ok ? 0 : -1;
}

/* Drop the database db; 0, or -1 with err set. */
static int
drop_db(mongoc_client_t *c, const char *db, bson_error_t *err)
{
	mongoc_database_t *d = mongoc_client_get_database(c, db);
	int ok = mongoc_database_drop(d, err);

	mongoc_database_destroy(d);
	return ok ? 0 : -1;
}

/* The index {ws: 1, run: 1} of coll (the collection "runs"); 0, or -1 with err set. */
static int
make_index(mongoc_collection_t *coll, bson_error_t *err)
{
	bson_t *cmd, reply;
	int ok;

	cmd = BCON_NEW("createIndexes", BCON_UTF8("runs"), "indexes", "[", "{",
	    "key", "{", "ws", BCON_INT32(1), "run", BCON_INT32(1), "}",
	    "name", BCON_UTF8("one_ws_run"), "}", "]");
	ok = mongoc_collection_write_command_with_opts(coll, cmd, NULL, &reply, err);
	bson_destroy(&reply);
	bson_destroy(cmd);
	return ok ? 0 : -1;
}

/* Upsert the lines of f one at a time; 0, or -1 (said on stderr). */
static int
upsert_all(mongoc_collection_t *coll, FILE *f)
{
	bson_error_t e;
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	int ret = 0;

	if (make_index(coll, &e) < 0) {
		fprintf(stderr, "mongo-one: createIndexes: %s\n", e.message);
		return -1;
	}
	while (!ret && (len = getline(&line, &cap, f)) >= 0) {
		n++;
		if ((size_t)len > LINE_MAX_LEN) {
			fprintf(stderr, "mongo-one: <stdin>:%zu: longer than %zu bytes\n", n, LINE_MAX_LEN);
			ret = -1;
		} else if (len > 0 && upsert(coll, line, (size_t)len, &e) < 0) {
			fprintf(stderr, "mongo-one: <stdin>:%zu: %s\n", n, e.message);
			ret = -1;
		}
	}
	free(line);
	if (!ret && ferror(f)) {
		fprintf(stderr, "mongo-one: cannot read <stdin>\n");
		ret = -1;
	}
	if (!ret)
		printf("%zu upserted\n", n);
	return ret;
}

int
main(int argc, char **argv)
{
	mongoc_uri_t *uri;
	mongoc_client_t *c;
	mongoc_collection_t *coll;
	const char *pw = getenv("XT_INDEX_PASSWORD"), *db;
	bson_error_t e;
	int ret = 0, drop = argc == 3 && !strcmp(argv[1], "-d");

	if (argc != 2 + drop || argv[1 + drop][0] == '-') {
		fprintf(stderr, "usage: mongo-one URI < RECORDS | mongo-one -d URI\n");
		return 2;
	}
	mongoc_init();
	mongoc_log_set_handler(quiet, NULL);
	if (!(uri = mongoc_uri_new_with_error(argv[1 + drop], &e))) {
		fprintf(stderr, "mongo-one: %s\n", e.message);
		return 1;
	}
	if (pw && *pw && !mongoc_uri_get_password(uri))
		mongoc_uri_set_password(uri, pw);
	db = mongoc_uri_get_database(uri);
	db = db && *db ? db : "xt";
	c = mongoc_client_new_from_uri(uri);
	mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	if (drop) {
		if (drop_db(c, db, &e) < 0) {
			fprintf(stderr, "mongo-one: cannot drop '%s': %s\n", db, e.message);
			ret = 1;
		}
	} else {
		coll = mongoc_client_get_collection(c, db, "runs");
		ret = upsert_all(coll, stdin) < 0;
		mongoc_collection_destroy(coll);
	}
	mongoc_client_destroy(c);
	mongoc_uri_destroy(uri);
	mongoc_cleanup();
	if (fflush(stdout) || ferror(stdout))
		ret = 1;
	return ret;
}
