/*
 * mongo-probe: with libmongoc as the static build links it, connect to
 * URI (its user, password, TLS and CA file say how to log in), insert a
 * document into xt.probe and read it back.
 *
 *   mongo-probe URI
 *
 * Prints "insert: ok" and "find: DOC" (the document read back, without
 * its _id, as relaxed extended JSON); exit 0 when both worked, 1 with
 * "error: MESSAGE" when not.
 */
#include <stdio.h>

#include <mongoc/mongoc.h>

static int
fail(const bson_error_t *e)
{
	printf("error: %s\n", e->message);
	return 1;
}

/* libmongoc's log goes to stderr: stdout holds the results only */
static void
log_stderr(mongoc_log_level_t level, const char *domain, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s: %s: %s\n", mongoc_log_level_str(level), domain, msg);
}

int
main(int argc, char **argv)
{
	mongoc_uri_t *uri;
	mongoc_client_t *c;
	mongoc_collection_t *coll;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_error_t e;
	bson_t *d, *q, *opts;
	char *json;
	int n = 0, ret = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: mongo-probe URI\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	mongoc_init();
	mongoc_log_set_handler(log_stderr, NULL);
	if (!(uri = mongoc_uri_new_with_error(argv[1], &e)))
		return fail(&e);
	c = mongoc_client_new_from_uri(uri);
	mongoc_client_set_error_api(c, MONGOC_ERROR_API_VERSION_2);
	coll = mongoc_client_get_collection(c, "xt", "probe");
	d = BCON_NEW("name", BCON_UTF8("xt-static"), "n", BCON_INT32(42));
	if (!mongoc_collection_insert_one(coll, d, NULL, NULL, &e)) {
		ret = fail(&e);
		goto out;
	}
	printf("insert: ok\n");
	q = BCON_NEW("name", BCON_UTF8("xt-static"));
	opts = BCON_NEW("projection", "{", "_id", BCON_INT32(0), "}");
	cur = mongoc_collection_find_with_opts(coll, q, opts, NULL);
	while (mongoc_cursor_next(cur, &doc)) {
		json = bson_as_relaxed_extended_json(doc, NULL);
		printf("find: %s\n", json);
		bson_free(json);
		n++;
	}
	if (mongoc_cursor_error(cur, &e))
		ret = fail(&e);
	else if (n == 0)
		ret = printf("error: nothing found\n") && 1;
	mongoc_cursor_destroy(cur);
	bson_destroy(opts);
	bson_destroy(q);
out:
	bson_destroy(d);
	mongoc_collection_destroy(coll);
	mongoc_client_destroy(c);
	mongoc_uri_destroy(uri);
	mongoc_cleanup();
	return ret;
}
