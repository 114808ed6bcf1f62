/*
 * The store's contract (store.h): the same cases on every backend named
 * in XT_TEST_STORES (store URLs, separated by blanks; by default a fresh
 * folder store). Each case works under a prefix of its own, removed at
 * the end, so a store in use can be tested. What only one backend does
 * is in that backend's test (u-store-file.c).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

static char pfx[64];		/* every case's objects are under it */

/* The store path pfx + rel, in one of a few rotating buffers. */
static const char *
P(const char *rel)
{
	static char buf[8][512];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s%s", pfx, rel);
	return buf[k];
}

static int
collect(const struct store_entry *e, void *arg)
{
	struct sbuf *sb = arg;

	/* the prefix left out, so that the expected listings read plainly */
	sbuf_addf(sb, "%s%s|", e->path + (strncmp(e->path, pfx, strlen(pfx)) ? 0 : strlen(pfx)),
	    e->is_dir ? "(d)" : "");
	return 0;
}

static int
listing_is(struct store *st, const char *prefix, int recursive, const char *want)
{
	struct sbuf ls;
	int ok;

	sbuf_init(&ls, 1 << 20);
	ok = store_list(st, P(prefix), recursive, collect, &ls) == 0 && !strcmp(ls.buf ? ls.buf : "", want);
	if (!ok)
		printf("# list '%s': got '%s', want '%s'\n", prefix, ls.buf ? ls.buf : "", want);
	sbuf_release(&ls);
	return ok;
}

/* store_list_sums: "path=HASH|" for each object ("path=|" when the listing does not tell it) */
static int
collect_sums(const struct store_entry *e, void *arg)
{
	sbuf_addf(arg, "%s=%s|", e->path + (strncmp(e->path, pfx, strlen(pfx)) ? 0 : strlen(pfx)),
	    e->sha256);
	return 0;
}

static int
count(const struct store_entry *e, void *arg)
{
	(void)e;
	(*(long *)arg)++;
	return 0;
}

static int
url_public_is(const char *url, const char *want)
{
	char *got = url_public(url);
	int ok = !strcmp(got, want) && !secret_in(got);

	if (!ok)
		printf("# url_public '%s': got '%s', want '%s'\n", url, got, want);
	free(got);
	return ok;
}

/* What comes before any backend: URLs, their schemes, and the credentials kept out of them. */
static void
test_front(void)
{
	char err[512];

	CHECK(store_open("", err, sizeof(err)) == NULL && strstr(err, "empty store URL"));
	CHECK(store_open("ftp://x/y", err, sizeof(err)) == NULL && strstr(err, "unknown scheme 'ftp'"));
	CHECK(store_open("nosuch:x", err, sizeof(err)) == NULL && strstr(err, "unknown scheme 'nosuch'"));
	CHECK(store_open("az://acct/cont?sv=2020&sig=S3CR3T", err, sizeof(err)) == NULL);
	CHECK(!strcmp(err, "malformed store URL 'az://acct/cont?sv=2020&sig=REDACTED': "
	    "a credential does not belong in it: set AZURE_STORAGE_SAS_TOKEN, AZURE_STORAGE_KEY "
	    "or AZURE_STORAGE_CONNECTION_STRING"));
	CHECK(store_open("nosuch://u:PaSs@h/x;AccountKey=K3Y", err, sizeof(err)) == NULL &&
	    !strstr(err, "PaSs") && !strstr(err, "K3Y"));

	/* the URL xt keeps: no credential */
	CHECK(url_public_is("az://acct/cont", "az://acct/cont"));
	CHECK(url_public_is("az://acct/cont/pre?sv=2020-08-04&ss=b&sp=rwl&sig=S3CR3T", "az://acct/cont/pre"));
	CHECK(url_public_is("https://u:PaSs@h.example/x?a=1", "https://u@h.example/x?a=1"));
	CHECK(url_public_is("https://h/x?a=1&sig=S#frag", "https://h/x#frag"));
	CHECK(url_public_is("az://acct/cont;AccountKey=K3Y==;EndpointSuffix=x", "az://acct/cont;EndpointSuffix=x"));
	CHECK(url_public_is("file:///a/b:c/d", "file:///a/b:c/d"));
	CHECK(url_public_is("/plain/path", "/plain/path"));
	CHECK(url_public_is("", ""));

	/* a folder store that is gone, without making it again */
	CHECK(store_gone("/nonexistent-xt/store") && access("/nonexistent-xt", F_OK) < 0);
	CHECK(store_gone("file:///nonexistent-xt/store"));
	CHECK(!store_gone("/tmp") && !store_gone("az://acct/cont") && !store_gone("file://rel"));
}

/* The contract, on the store st. */
static void
test_contract(const char *url, struct store *st)
{
	char hex[65], h2[65], ver[STORE_VER_MAX], ver2[STORE_VER_MAX], *local;
	struct store_stat sst;
	struct sbuf sb;
	int i;

	printf("# contract on %s, under '%s'\n", url, pfx);
	sbuf_init(&sb, 1 << 20);
	CHECK(!secret_in(store_url(st)));
	CHECK(store_get(st, "xt-store.json", 0, -1, &sb) == 0 && strstr(sb.buf, "\"format\":1"));

	/* put, get, ranges, stat with hash */
	CHECK(store_put(st, P("a/b/c.txt"), "hello world\n", 12) == 0);
	CHECK(store_get(st, P("a/b/c.txt"), 0, -1, &sb) == 0 && sb.len == 12 &&
	    !memcmp(sb.buf, "hello world\n", 12));
	CHECK(store_get(st, P("a/b/c.txt"), 6, 5, &sb) == 0 && sb.len == 5 && !memcmp(sb.buf, "world", 5));
	CHECK(store_get(st, P("a/b/c.txt"), 100, 5, &sb) == 0 && sb.len == 0);
	CHECK(store_get(st, P("a/b/none"), 0, -1, &sb) == STORE_ENOENT);
	CHECK(store_get(st, P("a/b"), 0, -1, &sb) == STORE_ENOENT);
	CHECK(store_get(st, P("a/b/c.txt"), -1, 2, &sb) == STORE_EINVAL);
	sha256_buf("hello world\n", 12, hex);
	CHECK(store_stat(st, P("a/b/c.txt"), &sst) == 0 && sst.size == 12 && !strcmp(sst.sha256, hex));
	CHECK(store_stat(st, P("a/b"), &sst) == STORE_ENOENT);
	CHECK(store_put(st, P("a/b/c.txt"), "new", 3) == 0);
	CHECK(store_get(st, P("a/b/c.txt"), 0, -1, &sb) == 0 && sb.len == 3);

	/* a listing with the hashes, when the store tells them; an appended object's is not kept */
	CHECK(store_put(st, P("s/one"), "hello world\n", 12) == 0);
	CHECK(store_append(st, P("s/two"), "line\n", 5) == 0);
	sbuf_reset(&sb);
	CHECK(store_list_sums(st, P("s/"), 1, collect_sums, &sb) == 0);
	{
		char *want = xasprintf("s/one=%s|s/two=|", store_lists_sums(st) ? hex : "");

		CHECK(sb.buf && !strcmp(sb.buf, want));
		if (!sb.buf || strcmp(sb.buf, want))
			printf("# list_sums: got '%s', want '%s'\n", sb.buf ? sb.buf : "", want);
		free(want);
	}
	sbuf_reset(&sb);
	CHECK(store_list(st, P("s/"), 1, collect_sums, &sb) == 0 && sb.buf &&
	    !strcmp(sb.buf, "s/one=|s/two=|"));
	CHECK(store_delete(st, P("s/one")) == 0 && store_delete(st, P("s/two")) == 0);

	/* bad paths never reach the backend */
	CHECK(store_put(st, "../x", "x", 1) == STORE_EINVAL && strstr(store_error(st), ".."));
	CHECK(store_put(st, "/etc/x", "x", 1) == STORE_EINVAL && strstr(store_error(st), "absolute"));
	CHECK(store_put(st, P("a//b"), "x", 1) == STORE_EINVAL);
	CHECK(store_put(st, P("a/\nb"), "x", 1) == STORE_EINVAL);
	CHECK(store_get(st, P("a/./b"), 0, -1, &sb) == STORE_EINVAL);

	/* the store's own files: xt-store.json is read-only, .tmp out of reach */
	CHECK(store_put(st, "xt-store.json", "{}", 2) == STORE_EINVAL);
	CHECK(strstr(store_error(st), "store path 'xt-store.json' is the store's own file") != NULL);
	CHECK(store_put(st, "Xt-Store.JSON", "{}", 2) == STORE_EINVAL);
	CHECK(store_create(st, "xt-store.json", "{}", 2) == STORE_EINVAL);
	CHECK(store_append(st, "xt-store.json", "{}", 2) == STORE_EINVAL);
	CHECK(store_delete(st, "xt-store.json") == STORE_EINVAL);
	CHECK(store_stat(st, "xt-store.json", &sst) == 0);
	CHECK(store_put(st, P("sub/xt-store.json"), "{}", 2) == 0);
	CHECK(store_delete(st, P("sub/xt-store.json")) == 0);
	CHECK(store_put(st, ".tmp/x", "x", 1) == STORE_EINVAL);
	CHECK(strstr(store_error(st), "store path '.tmp/x' is in the store's own folder") != NULL);
	CHECK(store_create(st, ".TMP/x", "x", 1) == STORE_EINVAL);
	CHECK(store_append(st, ".tmp/x", "x", 1) == STORE_EINVAL);
	CHECK(store_get(st, ".tmp/x", 0, -1, &sb) == STORE_EINVAL);
	CHECK(store_stat(st, ".tmp/x", &sst) == STORE_EINVAL);
	CHECK(store_delete(st, ".tmp/x") == STORE_EINVAL);
	CHECK(store_list(st, ".tmp/", 1, collect, &sb) == STORE_EINVAL);
	CHECK(store_put(st, P("a/.tmp/x"), "x", 1) == 0 && store_delete(st, P("a/.tmp/x")) == 0);
	CHECK(store_path_reserved(".tmp", 0) && !store_path_reserved("xt-store.json", 0));
	CHECK(store_path_reserved("xt-store.json", 1) && !store_path_reserved(".tmpx/y", 1));

	/* a batch: objects appear at the commit, whole */
	store_batch_begin(st);
	CHECK(store_put(st, P("b/one"), "1", 1) == 0);
	CHECK(store_put(st, P("b/two"), "22", 2) == 0);
	CHECK(store_commit(st) == 0);
	CHECK(store_stat(st, P("b/one"), &sst) == 0 && sst.size == 1);
	CHECK(store_get(st, P("b/two"), 0, -1, &sb) == 0 && sb.len == 2);
	CHECK(store_delete(st, P("b/one")) == 0 && store_delete(st, P("b/two")) == 0);

	/* create-if-absent */
	CHECK(store_create(st, P("c/one"), "1", 1) == 0);
	CHECK(store_create(st, P("c/one"), "2", 1) == STORE_EXIST);
	CHECK(store_get(st, P("c/one"), 0, -1, &sb) == 0 && sb.buf[0] == '1');

	/* append */
	for (i = 0; i < 3; i++)
		CHECK(store_append(st, P("l/log.jsonl"), "{}\n", 3) == 0);
	CHECK(store_get(st, P("l/log.jsonl"), 0, -1, &sb) == 0 && sb.len == 9);

	/* list, in the documented order: by name within a folder, a sub-folder where its name sorts */
	CHECK(store_put(st, P("o/a.txt"), "x", 1) == 0 && store_put(st, P("o/a/x"), "x", 1) == 0);
	CHECK(store_put(st, P("o/a-b"), "x", 1) == 0 && store_put(st, P("o/B"), "x", 1) == 0);
	CHECK(store_put(st, P("o/a/y/z"), "x", 1) == 0);
	CHECK(listing_is(st, "", 0, "a/(d)|c/(d)|l/(d)|o/(d)|"));
	CHECK(listing_is(st, "o/", 1, "o/B|o/a/x|o/a/y/z|o/a-b|o/a.txt|"));
	CHECK(listing_is(st, "o/", 0, "o/B|o/a/(d)|o/a-b|o/a.txt|"));
	CHECK(listing_is(st, "o/a", 0, "o/a/(d)|o/a-b|o/a.txt|"));
	CHECK(listing_is(st, "a/b/c", 1, "a/b/c.txt|"));
	CHECK(listing_is(st, "nothing/", 1, ""));
	CHECK(store_list(st, "../", 1, collect, &sb) == STORE_EINVAL);

	/* delete; folders are implied by objects */
	CHECK(store_delete(st, P("a/b/c.txt")) == 0);
	CHECK(store_delete(st, P("a/b/c.txt")) == STORE_ENOENT);
	CHECK(listing_is(st, "", 0, "c/(d)|l/(d)|o/(d)|"));

	/* put_file and get_file, with the hash */
	local = xasprintf("/tmp/u-store.%ld.local", (long)getpid());
	{
		FILE *fp = fopen(local, "w");

		CHECK(fp && fputs("abc", fp) >= 0 && fclose(fp) == 0);
	}
	CHECK(store_put_file(st, P("v/x"), local, hex, NULL, NULL) == 0);
	sha256_buf("abc", 3, h2);
	CHECK(!strcmp(hex, h2));
	CHECK(unlink(local) == 0);
	CHECK(store_get_file(st, P("v/x"), local, hex, NULL, NULL) == 0 && !strcmp(hex, h2));
	sbuf_reset(&sb);
	CHECK(file_read(local, &sb) == 0 && !strcmp(sb.buf, "abc"));
	CHECK(store_get_file(st, P("v/none"), local, hex, NULL, NULL) == STORE_ENOENT);
	CHECK(unlink(local) == 0);
	free(local);
	/* a local folder that does not exist: an error naming the file, nothing made */
	CHECK(store_get_file(st, P("v/x"), "/nonexistent-xt/y.out", hex, NULL, NULL) == STORE_ERR);
	CHECK(strstr(store_error(st), "/nonexistent-xt/y.out") && strstr(store_error(st), "No such file"));

	/* versions and the conditional put */
	CHECK(store_get_ver(st, P("v/x"), &sb, ver) == 0 && ver[0] && !strcmp(sb.buf, "abc"));
	CHECK(store_stat(st, P("v/x"), &sst) == 0 && (!sst.ver[0] || !strcmp(sst.ver, ver)));
	CHECK(store_put_if(st, P("v/x"), "abcd", 4, ver) == 0);
	CHECK(store_put_if(st, P("v/x"), "lost", 4, ver) == STORE_ECONFLICT);
	CHECK(store_get_ver(st, P("v/x"), &sb, ver2) == 0 && !strcmp(sb.buf, "abcd") && strcmp(ver, ver2));
	/* an append since the read: a conflict, and the line is there */
	CHECK(store_append(st, P("v/l"), "a\n", 2) == 0);
	CHECK(store_get_ver(st, P("v/l"), &sb, ver) == 0 && !strcmp(sb.buf, "a\n"));
	CHECK(store_append(st, P("v/l"), "b\n", 2) == 0);
	CHECK(store_put_if(st, P("v/l"), "lost", 4, ver) == STORE_ECONFLICT);
	CHECK(store_get(st, P("v/l"), 0, -1, &sb) == 0 && !strcmp(sb.buf, "a\nb\n"));
	/* an object put whole takes appends only where the store says so */
	if (store_appends_after_put(st)) {
		CHECK(store_append(st, P("v/x"), "\n", 1) == 0);
		CHECK(store_put_if(st, P("v/x"), "lost", 4, ver2) == STORE_ECONFLICT);
		CHECK(store_get(st, P("v/x"), 0, -1, &sb) == 0 && !strcmp(sb.buf, "abcd\n"));
	} else {
		CHECK(store_append(st, P("v/x"), "\n", 1) == STORE_ERR);
		CHECK(strstr(store_error(st), "it was put whole") != NULL);
		CHECK(store_get(st, P("v/x"), 0, -1, &sb) == 0 && !strcmp(sb.buf, "abcd"));
	}
	CHECK(store_put_if(st, P("v/none"), "x", 1, ver2) == STORE_ENOENT);
	CHECK(store_get_ver(st, P("v/none"), &sb, ver) == STORE_ENOENT);

	/* concurrent create: exactly one winner */
	{
		int wins = 0;

		for (i = 0; i < 8; i++)
			if (fork() == 0) {
				char err[512];
				struct store *s2 = store_open(url, err, sizeof(err));

				_exit(s2 && store_create(s2, P("race/x"), "x", 1) == 0 ? 0 : 3);
			}
		for (i = 0; i < 8; i++) {
			int status;

			wait(&status);
			wins += WIFEXITED(status) && WEXITSTATUS(status) == 0;
		}
		CHECK(wins == 1);
	}
	sbuf_release(&sb);
}

/* 10 processes race to create the same 100 names: each name is won once, by one process. */
static void
test_create_race(const char *url, struct store *st)
{
	int fds[10][2], i, p, status, wins = 0, bad = 0;
	long n = 0;

	fflush(stdout);
	for (p = 0; p < 10; p++) {
		CHECK(pipe(fds[p]) == 0);
		if (fork() == 0) {
			char err[512], who[16];
			struct store *s2 = store_open(url, err, sizeof(err));
			int won = 0;

			snprintf(who, sizeof(who), "%d", p);
			for (i = 0; s2 && i < 100; i++) {
				char name[32];
				int rc;

				snprintf(name, sizeof(name), "race/n%03d", i);
				rc = store_create(s2, P(name), who, strlen(who));
				if (rc == 0)
					won++;
				else if (rc != STORE_EXIST)
					won = -100000;
			}
			if (!s2)
				won = -1;
			else
				store_close(s2);
			_exit(write(fds[p][1], &won, sizeof(won)) == sizeof(won) ? 0 : 1);
		}
		close(fds[p][1]);
	}
	for (p = 0; p < 10; p++) {
		int won = -1;

		if (read(fds[p][0], &won, sizeof(won)) != sizeof(won) || won < 0)
			bad++;
		else
			wins += won;
		close(fds[p][0]);
	}
	while (wait(&status) > 0)
		bad += !WIFEXITED(status) || WEXITSTATUS(status);
	CHECK(bad == 0);
	CHECK(wins == 100);
	printf("# %d wins of 100 names by 10 processes\n", wins);
	CHECK(store_list(st, P("race/n"), 1, count, &n) == 0 && n == 100);
	/* each name holds its one winner's mark, whole */
	for (i = 0, bad = 0; i < 100; i++) {
		struct sbuf sb;
		char name[32];

		snprintf(name, sizeof(name), "race/n%03d", i);
		sbuf_init(&sb, 64);
		bad += store_get(st, P(name), 0, -1, &sb) != 0 || sb.len != 1 || sb.buf[0] < '0' ||
		    sb.buf[0] > '9';
		sbuf_release(&sb);
	}
	CHECK(bad == 0);
}

/* Remove every object under pfx. */
static int
drop(const struct store_entry *e, void *arg)
{
	return store_delete(arg, e->path) == 0 ? 0 : -1;
}

/*
 * store_id: a new store gets one on the first call, four processes asking
 * at once get the same, every later handle gets it again, and the marker
 * keeps its format.
 */
static void
test_id(const char *url)
{
	char *fresh = xasprintf(strncmp(url, "az://", 5) ? "%s-id%ld" : "%s/id%ld", url,
	    (long)getpid());
	char err[512], id[33], got[4][33];
	struct store *st;
	struct sbuf sb;
	int fd[2], k, same = 1;

	CHECK(pipe(fd) == 0);
	for (k = 0; k < 4; k++) {
		if (fork() == 0) {
			struct store *c = store_open(fresh, err, sizeof(err));
			char cid[33] = "";

			if (c && store_id(c, cid) == 0)
				(void)!write(fd[1], cid, 33);
			else
				(void)!write(fd[1], "failed:0123456789012345678901234", 33);
			_exit(0);
		}
	}
	close(fd[1]);
	for (k = 0; k < 4; k++)
		CHECK(read(fd[0], got[k], 33) == 33);
	close(fd[0]);
	while (wait(NULL) > 0)
		;
	for (k = 1; k < 4; k++)
		same &= !strcmp(got[0], got[k]);
	CHECK(same && strspn(got[0], "0123456789abcdef") == 32);
	if (!same)
		printf("# ids: %s %s %s %s\n", got[0], got[1], got[2], got[3]);
	st = store_open(fresh, err, sizeof(err));
	CHECK(st != NULL);
	if (st) {
		CHECK(store_id(st, id) == 0 && !strcmp(id, got[0]));
		sbuf_init(&sb, 4096);
		CHECK(store_get(st, "xt-store.json", 0, -1, &sb) == 0 && sb.buf &&
		    strstr(sb.buf, "\"format\":1") && strstr(sb.buf, id));
		sbuf_release(&sb);
		store_close(st);
	}
	/* another store has another */
	st = store_open(url, err, sizeof(err));
	CHECK(st && store_id(st, id) == 0 && strcmp(id, got[0]));
	if (st)
		store_close(st);
	free(fresh);
}

int
main(void)
{
	char dir[] = "/tmp/u-store.XXXXXX", err[512], *urls, *url, *save = NULL, *def = NULL;
	const char *list = getenv("XT_TEST_STORES");

	test_front();
	snprintf(pfx, sizeof(pfx), "u-store.%ld/", (long)getpid());
	if (!list || !*list) {
		printf("# INFO a folder store only: XT_TEST_STORES names the stores to test "
		    "(tests/run.sh adds az:// on its Azurite)\n");
		CHECK(mkdtemp(dir) != NULL);
		def = path_join(dir, "s");
		list = def;
	}
	urls = xstrdup(list);
	for (url = strtok_r(urls, " \t\n", &save); url; url = strtok_r(NULL, " \t\n", &save)) {
		struct store *st = store_open(url, err, sizeof(err));

		CHECK(st != NULL);
		if (!st) {
			printf("# %s\n", err);
			continue;
		}
		test_contract(url, st);
		test_create_race(url, st);
		test_id(url);
		CHECK(store_list(st, pfx, 1, drop, st) == 0);
		CHECK(listing_is(st, "", 1, ""));
		store_close(st);
	}
	free(urls);
	if (def) {
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			CHECK(!"cleanup");
		free(cmd);
		free(def);
	}
	return check_done();
}
