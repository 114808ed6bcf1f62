/*
 * u-sha256.c: lib/sha256 against the FIPS 180-4 vectors and against
 * BearSSL's br_sha256, on whichever path this CPU takes. The test then runs
 * itself again with XT_SHA256=portable, so the fallback is tested too, and
 * prints the speed of both paths as a TAP comment.
 *
 *   u-sha256              all of it
 *   u-sha256 --portable   the checks only, asserting the BearSSL path
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "sha256.h"
#include "util.h"
#include "banned.h"

#define BENCH_SIZE ((size_t)256 << 20)
#define DIGITS "0123456789abcdef"

static const char EMPTY[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
static const char ABC[] =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

/* xorshift64*: a fixed seed, so a failure repeats. */
static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

/* A number in [0, n]. */
static size_t
rnd_upto(size_t n)
{
	return (size_t)(rnd() % ((uint64_t)n + 1));
}

static void
br_hex(const void *data, size_t len, char hex[SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	br_sha256_context c;
	unsigned char out[32];
	int i;

	br_sha256_init(&c);
	br_sha256_update(&c, data, len);
	br_sha256_out(&c, out);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[out[i] >> 4];
		hex[2 * i + 1] = digits[out[i] & 15];
	}
	hex[64] = '\0';
}

/* Hash of s fed in pieces of step bytes. */
static int
hash_is(const char *s, size_t step, const char *want)
{
	struct sha256 h;
	char hex[SHA256_HEX];
	size_t len = strlen(s), i, n;

	sha256_init(&h);
	for (i = 0; i < len; i += n) {
		n = len - i < step ? len - i : step;
		sha256_update(&h, s + i, n);
	}
	sha256_hex(&h, hex);
	return strcmp(hex, want) == 0;
}

static void
test_vectors(void)
{
	static const char l448[] =
	    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char l896[] =
	    "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	static const char h448[] =
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
	static const char h896[] =
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1";
	static const char hmil[] =
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	struct sha256 h;
	char hex[SHA256_HEX], *a;
	size_t i;

	sha256_buf(NULL, 0, hex);
	CHECK(strcmp(hex, EMPTY) == 0);
	sha256_buf("abc", 3, hex);
	CHECK(strcmp(hex, ABC) == 0);
	CHECK(hash_is(l448, SIZE_MAX, h448));
	CHECK(hash_is(l448, 1, h448));
	CHECK(hash_is(l896, SIZE_MAX, h896));
	CHECK(hash_is(l896, 7, h896));

	a = xmalloc(1000000);
	memset(a, 'a', 1000000);
	sha256_buf(a, 1000000, hex);
	CHECK(strcmp(hex, hmil) == 0);
	sha256_init(&h);
	for (i = 0; i < 1000000; i += 1000)
		sha256_update(&h, a + i, 1000);
	sha256_hex(&h, hex);
	CHECK(strcmp(hex, hmil) == 0);
	free(a);

	/* sha256_hex leaves h as it was: "ab" then "c" is still "abc". */
	sha256_init(&h);
	sha256_update(&h, "ab", 2);
	sha256_hex(&h, hex);
	sha256_update(&h, "c", 1);
	sha256_hex(&h, hex);
	CHECK(strcmp(hex, ABC) == 0);
}

/*
 * Random lengths 0..5000 at random offsets (so unaligned), fed in random
 * pieces, some empty, against br_sha256 in one go.
 */
static void
test_random(void)
{
	enum { MAXLEN = 5000, ROUNDS = 3000 };
	unsigned char *buf = xmalloc(MAXLEN + 16);
	struct sha256 h;
	char hex[SHA256_HEX], want[SHA256_HEX];
	size_t len, off, i, n, cap;
	int r, bad = 0, pieces = 0;

	for (r = 0; r < ROUNDS; r++) {
		len = rnd_upto(MAXLEN);
		off = rnd_upto(15);
		for (i = 0; i < len; i++)
			buf[off + i] = (unsigned char)rnd();
		br_hex(buf + off, len, want);

		/* Small pieces often cross block edges; big ones go in bulk. */
		cap = r % 3 == 0 ? 3 : r % 3 == 1 ? 130 : MAXLEN;
		sha256_init(&h);
		for (i = 0; i < len; i += n) {
			n = rnd_upto(cap < len - i ? cap : len - i);
			sha256_update(&h, buf + off + i, n);
			pieces++;
		}
		sha256_hex(&h, hex);
		if (strcmp(hex, want) != 0 && bad++ == 0)
			printf("# round %d: %zu bytes at offset %zu: %s, "
			    "want %s\n", r, len, off, hex, want);

		sha256_buf(buf + off, len, hex);
		if (strcmp(hex, want) != 0 && bad++ == 0)
			printf("# round %d: sha256_buf of %zu: %s, want %s\n",
			    r, len, hex, want);
	}
	printf("# %d random inputs in %d pieces\n", ROUNDS, pieces);
	CHECK(bad == 0);
	free(buf);
}

/* sha256_file in threads at once, each on its own file (xt-get -P hashes several downloads at once). */
struct hasher {
	char *path;
	char want[SHA256_HEX];
	int bad;
	pthread_t th;
};

static void *
hash_often(void *arg)
{
	struct hasher *h = arg;
	char hex[SHA256_HEX];
	int i;

	for (i = 0; i < 20; i++)
		if (sha256_file(h->path, hex, NULL) < 0 || strcmp(hex, h->want) != 0)
			h->bad++;
	return NULL;
}

static void
test_file_threads(void)
{
	const char *tmp = getenv("TMPDIR");
	struct hasher hs[4];
	size_t len = 1 << 20, i;
	unsigned char *buf = xmalloc(len);
	int t, fd, bad = 0;

	for (t = 0; t < 4; t++) {
		hs[t].path = path_join(tmp != NULL && *tmp != '\0' ? tmp : "/tmp", "u-sha256t.XXXXXX");
		hs[t].bad = 0;
		fd = mkstemp(hs[t].path);
		if (!CHECK(fd >= 0))
			return;
		for (i = 0; i < len; i++)
			buf[i] = (unsigned char)rnd();
		CHECK(write_all(fd, buf, len) == 0);
		close(fd);
		br_hex(buf, len, hs[t].want);
	}
	for (t = 0; t < 4; t++)
		CHECK(pthread_create(&hs[t].th, NULL, hash_often, &hs[t]) == 0);
	for (t = 0; t < 4; t++) {
		pthread_join(hs[t].th, NULL);
		bad += hs[t].bad;
		unlink(hs[t].path);
		free(hs[t].path);
	}
	CHECK(bad == 0);
	free(buf);
}

static void
test_file(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path = path_join(tmp != NULL && *tmp != '\0' ? tmp : "/tmp",
	    "u-sha256.XXXXXX");
	char hex[SHA256_HEX], want[SHA256_HEX];
	size_t len = 300001, i;	/* more than sha256_file's read buffer */
	unsigned char *buf = xmalloc(len);
	long long size = -1;
	int fd;

	fd = mkstemp(path);
	if (!CHECK(fd >= 0))
		goto out;
	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)rnd();
	CHECK(write_all(fd, buf, len) == 0);
	close(fd);
	br_hex(buf, len, want);
	CHECK(sha256_file(path, hex, &size) == 0);
	CHECK(strcmp(hex, want) == 0);
	CHECK(size == (long long)len);

	/* An empty file, and no size wanted. */
	CHECK(truncate(path, 0) == 0);
	CHECK(sha256_file(path, hex, NULL) == 0);
	CHECK(strcmp(hex, EMPTY) == 0);
	unlink(path);

	errno = 0;
	CHECK(sha256_file(path, hex, &size) == -1 && errno == ENOENT);
out:
	free(path);
	free(buf);
}

static void
test_valid(void)
{
	char s[SHA256_HEX + 1];

	CHECK(sha256_valid(ABC));
	CHECK(sha256_valid(DIGITS DIGITS DIGITS DIGITS));
	CHECK(!sha256_valid(""));
	memcpy(s, ABC, SHA256_HEX);
	s[10] = 'F';
	CHECK(!sha256_valid(s));
	s[10] = 'g';
	CHECK(!sha256_valid(s));
	s[10] = ' ';
	CHECK(!sha256_valid(s));
	memcpy(s, ABC, SHA256_HEX);
	s[63] = '\0';
	CHECK(!sha256_valid(s));	/* 63 digits */
	s[63] = ABC[63];
	s[64] = 'a';
	s[65] = '\0';
	CHECK(!sha256_valid(s));	/* 65 digits */
}

/*
 * Run this program again with XT_SHA256=portable and --portable, and pass
 * its TAP on as comments: its own ok lines must not count here.
 */
static int
run_portable(const char *self)
{
	char line[512];
	FILE *f;
	pid_t pid;
	int fd[2], st;

	if (pipe(fd) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fd[0]);
		if (dup2(fd[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(fd[1]);
		setenv("XT_SHA256", "portable", 1);
		execl(self, self, "--portable", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	if ((f = fdopen(fd[0], "r")) == NULL) {
		close(fd[0]);
		waitpid(pid, &st, 0);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL)
		printf("# portable: %s", line);
	fclose(f);
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static double
mbps(double secs)
{
	return secs > 0 ? BENCH_SIZE / secs / 1e6 : 0;
}

/* Speed of sha256_update and of br_sha256 directly; printed, not checked. */
static void
bench(int ni)
{
	unsigned char *buf = xmalloc(BENCH_SIZE);
	struct sha256 h;
	br_sha256_context c;
	unsigned char out[32];
	char hex[SHA256_HEX];
	double t0, t1, t2;
	size_t i;

	for (i = 0; i < BENCH_SIZE; i++)
		buf[i] = (unsigned char)i;
	t0 = time_mono();
	sha256_init(&h);
	sha256_update(&h, buf, BENCH_SIZE);
	sha256_hex(&h, hex);
	t1 = time_mono();
	br_sha256_init(&c);
	br_sha256_update(&c, buf, BENCH_SIZE);
	br_sha256_out(&c, out);
	t2 = time_mono();
	printf("# sha256 of 256 MiB: %s %.0f MB/s, bearssl %.0f MB/s\n",
	    ni ? "sha-ni" : "portable (bearssl)", mbps(t1 - t0), mbps(t2 - t1));
	free(buf);
}

int
main(int argc, char *argv[])
{
	struct sha256 h;
	int child = argc > 1 && strcmp(argv[1], "--portable") == 0;

	util_setprog(argv[0]);
	sha256_init(&h);
	printf("# path: %s\n", h.ni ? "sha-ni" : "portable (bearssl)");
	if (child)
		CHECK(h.ni == 0);

	test_vectors();
	test_random();
	test_file();
	test_file_threads();
	test_valid();

	if (!child) {
		/* Asserted only when there is a fast path to fall back from. */
		if (h.ni)
			CHECK(run_portable("/proc/self/exe") == 0);
		bench(h.ni);
	}
	return check_done();
}
