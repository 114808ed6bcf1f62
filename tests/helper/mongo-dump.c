/*
 * mongo-dump: the documents of a collection of the index's database, for
 * the tests: one line each, relaxed extended JSON without _id, sorted by
 * ws, run and job.
 *
 *   mongo-dump URI COLLECTION
 *   mongo-dump URI COLLECTION.indexes   the names of its indexes instead
 *
 * The password may come from XT_INDEX_PASSWORD. Exit 1 with "error: ..."
 * when the server does not answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

static void
quiet(mongoc_log_level_t level, const char *domain, const char *msg, void *arg)
{
	(void)level, (void)domain, (void)msg, (void)arg;
}

int
main(int argc, char **argv)
{
	mongoc_uri_t *uri;
	mongoc_client_t *c;
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	const char *pw = getenv("XT_INDEX_PASSWORD"), *db;
	bson_error_t e;
	bson_t *q, *opts;
	int ret = 0, indexes;
	size_t n;

	if (argc != 3) {
		fprintf(stderr, "usage: mongo-dump URI COLLECTION\n");
		return 2;
	}
	mongoc_init();
	mongoc_log_set_handler(quiet, NULL);
	if (!(uri = mongoc_uri_new_with_error(argv[1], &e))) {
		printf("error: %s\n", e.message);
		return 1;
	}
	if (pw)
		mongoc_uri_set_password(uri, pw);
	db = mongoc_uri_get_database(uri);
	c = mongoc_client_new_from_uri(uri);
	mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	n = strlen(argv[2]);
	if ((indexes = n > 8 && !strcmp(argv[2] + n - 8, ".indexes")))
		argv[2][n - 8] = '\0';
	coll = mongoc_client_get_collection(c, db ? db : "xt", argv[2]);
	q = bson_new();
	opts = BCON_NEW("projection", "{", "_id", BCON_INT32(0), "}",
	    "sort", "{", "ws", BCON_INT32(1), "run", BCON_INT32(1), "job", BCON_INT32(1), "}");
	cur = indexes ? mongoc_collection_find_indexes_with_opts(coll, NULL) :
	    mongoc_collection_find_with_opts(coll, q, opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		bson_iter_t it;
		char *json;

		if (indexes) {
			if (bson_iter_init_find(&it, doc, "name") && BSON_ITER_HOLDS_UTF8(&it))
				printf("%s\n", bson_iter_utf8(&it, NULL));
			continue;
		}
		json = bson_as_relaxed_extended_json(doc, NULL);
		printf("%s\n", json);
		bson_free(json);
	}
	if (mongoc_cursor_error(cur, &e)) {
		printf("error: %s\n", e.message);
		ret = 1;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(q);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(c);
	mongoc_uri_destroy(uri);
	mongoc_cleanup();
	return ret;
}
