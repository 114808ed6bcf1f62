/* Unit tests of the store API on the folder backend. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "check.h"
#include "sha256.h"
#include "store.h"
#include "util.h"

static int
count(const struct store_entry *e, void *arg)
{
	struct sbuf *sb = arg;

	sbuf_addf(sb, "%s%s|", e->path, e->is_dir ? "(d)" : "");
	return 0;
}

int
main(void)
{
	char dir[] = "/tmp/u-store.XXXXXX", err[512], hex[65], *root;
	struct store *st;
	struct store_stat sst;
	struct sbuf sb, ls;
	int i, rc;

	CHECK(mkdtemp(dir) != NULL);
	root = path_join(dir, "s");
	CHECK(store_open("", err, sizeof(err)) == NULL);
	CHECK(store_open("ftp://x/y", err, sizeof(err)) == NULL && strstr(err, "unknown scheme"));
	CHECK(store_open("file://rel/x", err, sizeof(err)) == NULL && strstr(err, "malformed"));
	st = store_open(root, err, sizeof(err));
	CHECK(st != NULL);
	if (!st)
		return check_done();
	CHECK(strncmp(store_url(st), "file:///", 8) == 0);

	sbuf_init(&sb, 1 << 20);
	sbuf_init(&ls, 1 << 20);
	CHECK(store_get(st, "xt-store.json", 0, -1, &sb) == 0 && strstr(sb.buf, "\"format\":1"));

	/* put, get, ranges, stat with hash */
	CHECK(store_put(st, "a/b/c.txt", "hello world\n", 12) == 0);
	CHECK(store_get(st, "a/b/c.txt", 0, -1, &sb) == 0 && sb.len == 12 && !memcmp(sb.buf, "hello world\n", 12));
	CHECK(store_get(st, "a/b/c.txt", 6, 5, &sb) == 0 && sb.len == 5 && !memcmp(sb.buf, "world", 5));
	CHECK(store_get(st, "a/b/c.txt", 100, 5, &sb) == 0 && sb.len == 0);
	CHECK(store_get(st, "a/b/none", 0, -1, &sb) == STORE_ENOENT);
	CHECK(store_get(st, "a/b", 0, -1, &sb) == STORE_ENOENT);
	sha256_buf("hello world\n", 12, hex);
	CHECK(store_stat(st, "a/b/c.txt", &sst) == 0 && sst.size == 12 && !strcmp(sst.sha256, hex));
	CHECK(store_stat(st, "a/b", &sst) == STORE_ENOENT);
	CHECK(store_put(st, "a/b/c.txt", "new", 3) == 0);
	CHECK(store_get(st, "a/b/c.txt", 0, -1, &sb) == 0 && sb.len == 3);

	/* bad paths never reach the backend */
	CHECK(store_put(st, "../x", "x", 1) == STORE_EINVAL && strstr(store_error(st), ".."));
	CHECK(store_put(st, "/etc/x", "x", 1) == STORE_EINVAL && strstr(store_error(st), "absolute"));
	CHECK(store_put(st, "a//b", "x", 1) == STORE_EINVAL);
	CHECK(store_put(st, "a/\nb", "x", 1) == STORE_EINVAL);
	CHECK(store_get(st, "a/./b", 0, -1, &sb) == STORE_EINVAL);

	/* a batch: objects appear at the commit, whole */
	store_batch_begin(st);
	CHECK(store_put(st, "b/one", "1", 1) == 0);
	CHECK(store_put(st, "b/two", "22", 2) == 0);
	CHECK(store_stat(st, "b/one", &sst) == STORE_ENOENT);
	CHECK(store_commit(st) == 0);
	CHECK(store_stat(st, "b/one", &sst) == 0 && sst.size == 1);
	CHECK(store_get(st, "b/two", 0, -1, &sb) == 0 && sb.len == 2);
	CHECK(store_delete(st, "b/one") == 0 && store_delete(st, "b/two") == 0);

	/* create-if-absent */
	CHECK(store_create(st, "c/one", "1", 1) == 0);
	CHECK(store_create(st, "c/one", "2", 1) == STORE_EXIST);
	CHECK(store_get(st, "c/one", 0, -1, &sb) == 0 && sb.buf[0] == '1');

	/* append */
	for (i = 0; i < 3; i++)
		CHECK(store_append(st, "l/log.jsonl", "{}\n", 3) == 0);
	CHECK(store_get(st, "l/log.jsonl", 0, -1, &sb) == 0 && sb.len == 9);

	/* list: sorted, folders, prefixes, no temporary files */
	{
		char *tmp = path_join(root, ".tmp");

		mkdir_p(tmp);
		free(tmp);
	}
	CHECK(store_list(st, "", 0, count, &ls) == 0);
	CHECK(!strcmp(ls.buf, "a/(d)|c/(d)|l/(d)|xt-store.json|"));
	sbuf_reset(&ls);
	CHECK(store_list(st, "", 1, count, &ls) == 0);
	CHECK(!strcmp(ls.buf, "a/b/c.txt|c/one|l/log.jsonl|xt-store.json|"));
	sbuf_reset(&ls);
	CHECK(store_list(st, "a/b/c", 1, count, &ls) == 0 && !strcmp(ls.buf, "a/b/c.txt|"));
	sbuf_reset(&ls);
	CHECK(store_list(st, "nothing/", 1, count, &ls) == 0 && ls.len == 0);
	CHECK(store_list(st, "../", 1, count, &ls) == STORE_EINVAL);

	/* delete removes empty folders */
	CHECK(store_delete(st, "a/b/c.txt") == 0);
	CHECK(store_delete(st, "a/b/c.txt") == STORE_ENOENT);
	sbuf_reset(&ls);
	CHECK(store_list(st, "", 0, count, &ls) == 0 && !strstr(ls.buf, "a/"));

	/* get_file verifies the hash the store knows */
	{
		char *obj = path_join(root, "v/x"), *local = path_join(dir, "x.out");
		FILE *fp;

		CHECK(store_put(st, "v/x", "abc", 3) == 0);
		CHECK(store_get_file(st, "v/x", local, hex, NULL, NULL) == 0);
		sha256_buf("abc", 3, err);
		CHECK(!strcmp(hex, err));
		/* tamper in place (same size): the kept hash no longer matches the mtime, so it is not trusted */
		fp = fopen(obj, "r+");
		fputs("abd", fp);
		fclose(fp);
		CHECK(store_stat(st, "v/x", &sst) == 0 && sst.sha256[0] == '\0');
		free(obj);
		free(local);
	}

	/* a stored hash that does not match the bytes: the download is refused */
	{
		char *obj = path_join(root, "v/y"), *local = path_join(dir, "y.out"), val[160];
		ssize_t n;

		CHECK(store_put(st, "v/y", "xyz", 3) == 0);
		n = getxattr(obj, "user.xt.sha256", val, sizeof(val) - 1);
		CHECK(n > 64);
		if (n > 64) {
			memset(val, '0', 64);
			CHECK(setxattr(obj, "user.xt.sha256", val, (size_t)n, 0) == 0);
			CHECK(store_get_file(st, "v/y", local, hex, NULL, NULL) == STORE_ECORRUPT);
			CHECK(strstr(store_error(st), "does not match") != NULL);
			CHECK(access(local, F_OK) < 0);
			/* over an existing file: it stays as it was, and no temporary is left beside it */
			{
				char *tmp = xasprintf("%s.xt-tmp.%ld", local, (long)getpid());
				FILE *fp = fopen(local, "w");

				CHECK(fp && fputs("old", fp) >= 0 && fclose(fp) == 0);
				CHECK(store_get_file(st, "v/y", local, hex, NULL, NULL) == STORE_ECORRUPT);
				sbuf_reset(&sb);
				CHECK(file_read(local, &sb) == 0 && !strcmp(sb.buf, "old"));
				CHECK(access(tmp, F_OK) < 0);
				free(tmp);
			}
		}
		/* a local folder that does not exist: an error naming the file, nothing made */
		{
			char *bad = path_join(dir, "no/such/y.out");

			CHECK(store_get_file(st, "v/x", bad, hex, NULL, NULL) == STORE_ERR);
			CHECK(strstr(store_error(st), "no/such/y.out") &&
			    strstr(store_error(st), "No such file"));
			free(bad);
		}
		free(obj);
		free(local);
	}

	/* concurrent create: exactly one winner */
	{
		int wins = 0;

		for (i = 0; i < 8; i++)
			if (fork() == 0) {
				struct store *s2 = store_open(root, err, sizeof(err));

				_exit(store_create(s2, "race/x", "x", 1) == 0 ? 0 : 3);
			}
		for (i = 0; i < 8; i++) {
			int status;

			wait(&status);
			wins += WIFEXITED(status) && WEXITSTATUS(status) == 0;
		}
		CHECK(wins == 1);
	}

	rc = store_open(dir, err, sizeof(err)) == NULL;
	CHECK(rc && strstr(err, "not an xt store"));
	sbuf_release(&sb);
	sbuf_release(&ls);
	store_close(st);
	{
		char *cmd = xasprintf("rm -rf '%s'", dir);

		if (system(cmd) != 0)
			CHECK(!"cleanup");
		free(cmd);
	}
	free(root);
	return check_done();
}
