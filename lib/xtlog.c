/* xtlog.c: see xtlog.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "xtlog.h"
#include "banned.h"

/* The descriptor: >= 0 open, -1 not looked at yet, -2 XT_LOG unset. */
static int log_fd = -1;

int
xtlog_open(void)
{
	int fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE), want = -1;
	const char *path;

	if (fd >= 0)
		return fd;
	if (fd == -2) {
		errno = ENOENT;
		return -1;
	}
	path = getenv("XT_LOG");
	if (!path || !*path) {
		__atomic_compare_exchange_n(&log_fd, &want, -2, 0, __ATOMIC_ACQ_REL,
		    __ATOMIC_ACQUIRE);
		errno = ENOENT;
		return -1;
	}
	/* a failed open is not remembered: it may be passing (EINTR, EMFILE) */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return -1;
	if (!__atomic_compare_exchange_n(&log_fd, &want, fd, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE)) {
		/* another thread was first: use its descriptor */
		close(fd);
		if (want < 0) {
			errno = ENOENT;
			return -1;
		}
		return want;
	}
	return fd;
}

void
xtlog_close(void)
{
	int fd = __atomic_exchange_n(&log_fd, -1, __ATOMIC_ACQ_REL);

	if (fd >= 0)
		close(fd);
}

/* The length of the UTF-8 sequence at s (n > 0 bytes there), 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;
	if (c < 0xe0)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c < 0xf0) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		/* overlong, or a surrogate */
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0))
			return 0;
		return 3;
	}
	if (c < 0xf5) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		/* overlong, or past U+10FFFF */
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] >= 0x90))
			return 0;
		return 4;
	}
	return 0;
}

/*
 * Take back the n bytes that a short write left just before offset end:
 * when they are still there (read back: another thread sharing fd may have
 * moved its offset), overwrite them in place with spaces and a newline, a
 * blank line that every reader skips. In place, whatever was appended
 * after them stays whole, and no new space is needed. fd may be write-only:
 * the file is opened again through /proc. Without /proc it is cut back
 * instead, when it still ends with them.
 */
static void
take_back(int fd, off_t end, const char *buf, size_t n)
{
	char blk[4096], path[64];
	off_t start = end - (off_t)n, at;
	struct stat sb;
	size_t k;
	int rw;

	if (end < 0 || start < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if ((rw = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		/* no /proc (a chroot): cut them off, when nothing follows them */
		if (fstat(fd, &sb) == 0 && sb.st_size == end && ftruncate(fd, start) < 0)
			return;	/* nothing more to try */
		return;
	}
	for (at = start; at < end; at += (off_t)k) {
		k = (size_t)(end - at) < sizeof(blk) ? (size_t)(end - at) : sizeof(blk);
		if (pread(rw, blk, k, at) != (ssize_t)k || memcmp(blk, buf + (at - start), k)) {
			close(rw);
			return;
		}
	}
	memset(blk, ' ', sizeof(blk));
	for (at = start; at < end; at += (off_t)k) {
		k = (size_t)(end - at) < sizeof(blk) ? (size_t)(end - at) : sizeof(blk);
		if (at + (off_t)k == end)
			blk[k - 1] = '\n';
		if (pwrite(rw, blk, k, at) != (ssize_t)k)
			break;
	}
	close(rw);
}

int
xtlog_append(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	int tries = 0;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if ((size_t)n == len)
			return 0;
		/*
		 * Cut short: the disk is full (or a quota, a file size limit,
		 * a signal on a network file system). The rest cannot follow:
		 * another writer's line may be in between. Take the part back
		 * and try the whole again; a full disk answers with its errno.
		 */
		if (n > 0)
			take_back(fd, lseek(fd, 0, SEEK_CUR), p, (size_t)n);
		if (++tries == 3) {
			errno = ENOSPC;
			return -1;
		}
	}
	return 0;
}

int
xtlog_write(const char *buf, size_t len)
{
	int fd = len ? xtlog_open() : 0;

	if (fd < 0)
		return -1;
	return xtlog_append(fd, buf, len);
}

char *
xtlog_utf8(const char *s, size_t n)
{
	const unsigned char *t = (const unsigned char *)s;
	char *b = malloc(3 * n + 1), *o = b;
	size_t i = 0, k;

	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	while (i < n) {
		if (t[i] && (k = utf8_len(t + i, n - i))) {
			memcpy(o, t + i, k);
			o += k;
			i += k;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	return b;
}

/* The code of the escape "\\uXXXX" at t (n bytes there), or -1 when it is not one. */
static long
hex4(const unsigned char *t, size_t n)
{
	long u = 0;
	int i;

	if (n < 6 || t[0] != '\\' || t[1] != 'u')
		return -1;
	for (i = 2; i < 6; i++) {
		if (!isxdigit(t[i]))
			return -1;
		u = u * 16 + (isdigit(t[i]) ? t[i] - '0' : (t[i] | 0x20) - 'a' + 10);
	}
	return u;
}

int
xtlog_clean(const char *text, size_t len, char **out, size_t *outlen)
{
	static const char fffd[] = "\xef\xbf\xbd";
	const unsigned char *t = (const unsigned char *)text;
	char *b = NULL;
	size_t i = 0, o = 0, k;
	int instr = 0;
	long u;

	*out = NULL;
	*outlen = 0;
	/* b is made at the first change; until then nothing is copied */
#define KEEP(n) do { if (b) memcpy(b + o, t + i, (n)); o += b ? (n) : 0; i += (n); } while (0)
#define SWAP(n, lit) do { \
		if (!b) { \
			if (!(b = malloc(3 * len + 1))) { errno = ENOMEM; return -1; } \
			memcpy(b, t, i); o = i; \
		} \
		memcpy(b + o, (lit), sizeof(lit) - 1); o += sizeof(lit) - 1; i += (n); \
	} while (0)
	while (i < len) {
		unsigned c = t[i];

		if (!instr) {
			size_t w = 0;

			if (c == 'N' && len - i >= 3 && !memcmp(t + i, "NaN", 3))
				w = 3;
			else if (c == 'I' && len - i >= 8 && !memcmp(t + i, "Infinity", 8))
				w = 8;
			else if (c == '-' && len - i >= 9 && !memcmp(t + i, "-Infinity", 9))
				w = 9;
			if (w && (i + w == len || !(isalnum(t[i + w]) || t[i + w] == '_'))) {
				if (w == 3)
					SWAP(3, "\"NaN\"");
				else if (w == 8)
					SWAP(8, "\"Infinity\"");
				else
					SWAP(9, "\"-Infinity\"");
				continue;
			}
			instr = c == '"';
			KEEP(1);
		} else if (c == '"') {
			instr = 0;
			KEEP(1);
		} else if (c == '\\' && (u = hex4(t + i, len - i)) >= 0) {
			long lo = u >= 0xd800 && u < 0xdc00 ? hex4(t + i + 6, len - i - 6) : -1;

			if (lo >= 0xdc00 && lo < 0xe000)
				KEEP(12);	/* a surrogate pair */
			else if (u == 0 || (u >= 0xd800 && u < 0xe000))
				SWAP(6, "\\ufffd");
			else
				KEEP(6);
		} else if (c == '\\') {
			KEEP(i + 1 < len ? 2 : 1);
		} else if (c == 0) {
			SWAP(1, fffd);
		} else if (c < 0x80) {
			KEEP(1);
		} else if ((k = utf8_len(t + i, len - i))) {
			KEEP(k);
		} else {
			SWAP(1, fffd);
		}
	}
#undef KEEP
#undef SWAP
	if (!b)
		return 0;
	b[o] = '\0';
	*out = b;
	*outlen = o;
	return 1;
}

/*
 * A line being built: in the caller's stack buffer first, on the heap when
 * it grows past it, never past XTLOG_LINE_MAX. A failure (too long, out of
 * memory) is remembered in err and checked once at the end.
 */
struct line {
	char *buf;
	size_t len, cap;
	int heap, err;
};

static void
line_init(struct line *l, char *stack, size_t cap)
{
	l->buf = stack;
	l->len = 0;
	l->cap = cap;
	l->heap = 0;
	l->err = 0;
}

static void
line_release(struct line *l)
{
	if (l->heap)
		free(l->buf);
}

static int
line_grow(struct line *l, size_t n)
{
	size_t cap;
	char *p;

	if (l->err)
		return -1;
	if (l->len + n <= l->cap)
		return 0;
	/* the limit does not count the newline */
	if (l->len + n > XTLOG_LINE_MAX + 1) {
		l->err = EMSGSIZE;
		return -1;
	}
	cap = l->cap * 2 > l->len + n ? l->cap * 2 : l->len + n;
	if (cap > XTLOG_LINE_MAX + 1)
		cap = XTLOG_LINE_MAX + 1;
	p = l->heap ? realloc(l->buf, cap) : malloc(cap);
	if (!p) {
		l->err = ENOMEM;
		return -1;
	}
	if (!l->heap)
		memcpy(p, l->buf, l->len);
	l->buf = p;
	l->cap = cap;
	l->heap = 1;
	return 0;
}

static void
put(struct line *l, const char *s, size_t n)
{
	if (line_grow(l, n) == 0) {
		memcpy(l->buf + l->len, s, n);
		l->len += n;
	}
}

#define PUTS(l, lit) put((l), (lit), sizeof(lit) - 1)

/* s as a JSON string, in quotes. */
static void
put_str(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	PUTS(l, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = { '\\', 0, '0', '0', 0, 0 };
		size_t n = 2;

		if (c >= 0x80) {
			size_t k = utf8_len((const unsigned char *)s, strnlen(s, 4));

			if (k) {
				s += k - 1;
				continue;
			}
			/* not UTF-8: the replacement character, as the reader would */
			put(l, run, (size_t)(s - run));
			run = s + 1;
			PUTS(l, "\xef\xbf\xbd");
			continue;
		}
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(l, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		put(l, esc, n);
	}
	put(l, run, (size_t)(s - run));
	PUTS(l, "\"");
}

/*
 * Shortest round-trip doubles with Grisu2 (Florian Loitsch, "Printing
 * floating-point numbers quickly and accurately with integers", PLDI 2010),
 * as in nlohmann/json's to_chars: the digits always read back as the same
 * double, and are the shortest such in about 99.9% of cases (else one digit
 * more). printf("%.17g") plus strtod checks cost four times as much, and
 * the number is most of the cost of a metric line.
 */
struct diyfp {
	uint64_t f;
	int e;
};

/* 10^k ~ f * 2^e with f normalised, for k = -300, -292, ..., 324 (rounded to nearest). */
static const struct {
	uint64_t f;
	int e, k;
} pow10_cache[] = {
	{ 0xAB70FE17C79AC6CAULL, -1060, -300 },
	{ 0xFF77B1FCBEBCDC4FULL, -1034, -292 },
	{ 0xBE5691EF416BD60CULL, -1007, -284 },
	{ 0x8DD01FAD907FFC3CULL, -980, -276 },
	{ 0xD3515C2831559A83ULL, -954, -268 },
	{ 0x9D71AC8FADA6C9B5ULL, -927, -260 },
	{ 0xEA9C227723EE8BCBULL, -901, -252 },
	{ 0xAECC49914078536DULL, -874, -244 },
	{ 0x823C12795DB6CE57ULL, -847, -236 },
	{ 0xC21094364DFB5637ULL, -821, -228 },
	{ 0x9096EA6F3848984FULL, -794, -220 },
	{ 0xD77485CB25823AC7ULL, -768, -212 },
	{ 0xA086CFCD97BF97F4ULL, -741, -204 },
	{ 0xEF340A98172AACE5ULL, -715, -196 },
	{ 0xB23867FB2A35B28EULL, -688, -188 },
	{ 0x84C8D4DFD2C63F3BULL, -661, -180 },
	{ 0xC5DD44271AD3CDBAULL, -635, -172 },
	{ 0x936B9FCEBB25C996ULL, -608, -164 },
	{ 0xDBAC6C247D62A584ULL, -582, -156 },
	{ 0xA3AB66580D5FDAF6ULL, -555, -148 },
	{ 0xF3E2F893DEC3F126ULL, -529, -140 },
	{ 0xB5B5ADA8AAFF80B8ULL, -502, -132 },
	{ 0x87625F056C7C4A8BULL, -475, -124 },
	{ 0xC9BCFF6034C13053ULL, -449, -116 },
	{ 0x964E858C91BA2655ULL, -422, -108 },
	{ 0xDFF9772470297EBDULL, -396, -100 },
	{ 0xA6DFBD9FB8E5B88FULL, -369, -92 },
	{ 0xF8A95FCF88747D94ULL, -343, -84 },
	{ 0xB94470938FA89BCFULL, -316, -76 },
	{ 0x8A08F0F8BF0F156BULL, -289, -68 },
	{ 0xCDB02555653131B6ULL, -263, -60 },
	{ 0x993FE2C6D07B7FACULL, -236, -52 },
	{ 0xE45C10C42A2B3B06ULL, -210, -44 },
	{ 0xAA242499697392D3ULL, -183, -36 },
	{ 0xFD87B5F28300CA0EULL, -157, -28 },
	{ 0xBCE5086492111AEBULL, -130, -20 },
	{ 0x8CBCCC096F5088CCULL, -103, -12 },
	{ 0xD1B71758E219652CULL, -77, -4 },
	{ 0x9C40000000000000ULL, -50, 4 },
	{ 0xE8D4A51000000000ULL, -24, 12 },
	{ 0xAD78EBC5AC620000ULL, 3, 20 },
	{ 0x813F3978F8940984ULL, 30, 28 },
	{ 0xC097CE7BC90715B3ULL, 56, 36 },
	{ 0x8F7E32CE7BEA5C70ULL, 83, 44 },
	{ 0xD5D238A4ABE98068ULL, 109, 52 },
	{ 0x9F4F2726179A2245ULL, 136, 60 },
	{ 0xED63A231D4C4FB27ULL, 162, 68 },
	{ 0xB0DE65388CC8ADA8ULL, 189, 76 },
	{ 0x83C7088E1AAB65DBULL, 216, 84 },
	{ 0xC45D1DF942711D9AULL, 242, 92 },
	{ 0x924D692CA61BE758ULL, 269, 100 },
	{ 0xDA01EE641A708DEAULL, 295, 108 },
	{ 0xA26DA3999AEF774AULL, 322, 116 },
	{ 0xF209787BB47D6B85ULL, 348, 124 },
	{ 0xB454E4A179DD1877ULL, 375, 132 },
	{ 0x865B86925B9BC5C2ULL, 402, 140 },
	{ 0xC83553C5C8965D3DULL, 428, 148 },
	{ 0x952AB45CFA97A0B3ULL, 455, 156 },
	{ 0xDE469FBD99A05FE3ULL, 481, 164 },
	{ 0xA59BC234DB398C25ULL, 508, 172 },
	{ 0xF6C69A72A3989F5CULL, 534, 180 },
	{ 0xB7DCBF5354E9BECEULL, 561, 188 },
	{ 0x88FCF317F22241E2ULL, 588, 196 },
	{ 0xCC20CE9BD35C78A5ULL, 614, 204 },
	{ 0x98165AF37B2153DFULL, 641, 212 },
	{ 0xE2A0B5DC971F303AULL, 667, 220 },
	{ 0xA8D9D1535CE3B396ULL, 694, 228 },
	{ 0xFB9B7CD9A4A7443CULL, 720, 236 },
	{ 0xBB764C4CA7A44410ULL, 747, 244 },
	{ 0x8BAB8EEFB6409C1AULL, 774, 252 },
	{ 0xD01FEF10A657842CULL, 800, 260 },
	{ 0x9B10A4E5E9913129ULL, 827, 268 },
	{ 0xE7109BFBA19C0C9DULL, 853, 276 },
	{ 0xAC2820D9623BF429ULL, 880, 284 },
	{ 0x80444B5E7AA7CF85ULL, 907, 292 },
	{ 0xBF21E44003ACDD2DULL, 933, 300 },
	{ 0x8E679C2F5E44FF8FULL, 960, 308 },
	{ 0xD433179D9C8CB841ULL, 986, 316 },
	{ 0x9E19DB92B4E31BA9ULL, 1013, 324 },
};

static struct diyfp
diy_mul(struct diyfp x, struct diyfp y)
{
	uint64_t a = x.f >> 32, b = x.f & 0xffffffffu, c = y.f >> 32, d = y.f & 0xffffffffu;
	uint64_t ac = a * c, bc = b * c, ad = a * d, bd = b * d;
	uint64_t mid = (bd >> 32) + (ad & 0xffffffffu) + (bc & 0xffffffffu) + (1u << 31);
	struct diyfp r = { ac + (ad >> 32) + (bc >> 32) + (mid >> 32), x.e + y.e + 64 };

	return r;
}

static struct diyfp
diy_norm(struct diyfp x)
{
	while (!(x.f >> 63)) {
		x.f <<= 1;
		x.e--;
	}
	return x;
}

/* Move the last digit down while that brings it closer to the value, inside the range. */
static void
grisu_round(char *buf, int len, uint64_t dist, uint64_t delta, uint64_t rest, uint64_t ten_k)
{
	while (rest < dist && delta - rest >= ten_k &&
	    (rest + ten_k < dist || dist - rest > rest + ten_k - dist)) {
		buf[len - 1]--;
		rest += ten_k;
	}
}

/* The digits of v > 0 (finite) into buf, v = digits * 10^*exp10; returns their count. */
static int
grisu2(double v, char *buf, int *exp10)
{
	union { double d; uint64_t u; } bits = { v };
	uint64_t F = bits.u & (((uint64_t)1 << 52) - 1), E = bits.u >> 52;
	struct diyfp w = E ? (struct diyfp){ F | (uint64_t)1 << 52, (int)E - 1075 }
	    : (struct diyfp){ F, -1074 };
	struct diyfp mp = diy_norm((struct diyfp){ 2 * w.f + 1, w.e - 1 }), mm, c, one;
	uint64_t delta, dist, p2, rest;
	uint32_t p1, pow10;
	int f, k, i, n, len = 0;

	/* the boundaries m- and m+ halfway to the neighbours, m- at m+'s exponent */
	if (F == 0 && E > 1)
		mm = (struct diyfp){ 4 * w.f - 1, w.e - 2 };
	else
		mm = (struct diyfp){ 2 * w.f - 1, w.e - 1 };
	mm.f <<= mm.e - mp.e;
	mm.e = mp.e;
	w = diy_norm(w);

	/* scale by a cached 10^-k so that m+'s exponent lands in [-60, -32] */
	f = -60 - mp.e - 1;
	k = f * 78913 / (1 << 18) + (f > 0);
	i = (300 + k + 7) / 8;
	c = (struct diyfp){ pow10_cache[i].f, pow10_cache[i].e };
	*exp10 = -pow10_cache[i].k;
	w = diy_mul(w, c);
	mm = diy_mul(mm, c);
	mp = diy_mul(mp, c);
	mm.f++;
	mp.f--;

	delta = mp.f - mm.f;
	dist = mp.f - w.f;
	one = (struct diyfp){ (uint64_t)1 << -mp.e, mp.e };
	p1 = (uint32_t)(mp.f >> -one.e);
	p2 = mp.f & (one.f - 1);
	for (pow10 = 1000000000, n = 10; pow10 > p1 && n > 1; pow10 /= 10)
		n--;
	/* the integral part's digits, stopping as soon as the rest is in range */
	while (n > 0) {
		buf[len++] = (char)('0' + p1 / pow10);
		p1 %= pow10;
		n--;
		rest = ((uint64_t)p1 << -one.e) + p2;
		if (rest <= delta) {
			*exp10 += n;
			grisu_round(buf, len, dist, delta, rest, (uint64_t)pow10 << -one.e);
			return len;
		}
		pow10 /= 10;
	}
	/* then the fraction's */
	for (;;) {
		p2 *= 10;
		buf[len++] = (char)('0' + (p2 >> -one.e));
		p2 &= one.f - 1;
		delta *= 10;
		dist *= 10;
		n--;
		if (p2 <= delta)
			break;
	}
	*exp10 += n;
	grisu_round(buf, len, dist, delta, p2, one.f);
	return len;
}

size_t
xtlog_dtoa(double v, char *buf)
{
	char d[20], *p = buf;
	int n, e, point, i;

	if (!isfinite(v)) {
		const char *t = isnan(v) ? "\"NaN\"" : v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
		size_t n = strlen(t);

		memcpy(buf, t, n + 1);
		return n;
	}
	if (v == 0) {
		memcpy(buf, "0", 2);
		return 1;
	}
	if (v < 0) {
		*p++ = '-';
		v = -v;
	}
	n = grisu2(v, d, &e);
	point = n + e;		/* digits before the decimal point */
	if (n <= point && point <= 17) {
		/* 1234000 */
		memcpy(p, d, (size_t)n);
		memset(p + n, '0', (size_t)(point - n));
		p += point;
	} else if (0 < point && point <= 17) {
		/* 12.34 */
		memcpy(p, d, (size_t)point);
		p[point] = '.';
		memcpy(p + point + 1, d + point, (size_t)(n - point));
		p += n + 1;
	} else if (-6 < point && point <= 0) {
		/* 0.001234 */
		*p++ = '0';
		*p++ = '.';
		memset(p, '0', (size_t)-point);
		memcpy(p - point, d, (size_t)n);
		p += n - point;
	} else {
		/* 1.234e-7, 1e+300 */
		*p++ = d[0];
		if (n > 1) {
			*p++ = '.';
			memcpy(p, d + 1, (size_t)(n - 1));
			p += n - 1;
		}
		e = point - 1;
		*p++ = 'e';
		*p++ = e < 0 ? '-' : '+';
		e = e < 0 ? -e : e;
		for (i = e >= 100 ? 100 : e >= 10 ? 10 : 1; i; i /= 10)
			*p++ = (char)('0' + e / i % 10);
	}
	*p = '\0';
	return (size_t)(p - buf);
}

static void
put_num(struct line *l, double v)
{
	char buf[32];

	put(l, buf, xtlog_dtoa(v, buf));
}

static void
put_long(struct line *l, long v)
{
	char d[24], *p = d + sizeof(d);
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put(l, p, (size_t)(d + sizeof(d) - p));
}

/* "time" (now, UTC, milliseconds) and "event": the head of every line. */
static void
put_head(struct line *l, const char *event, long step)
{
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[24];
	struct timespec ts;
	char t[25];
	long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		struct tm tm;

		gmtime_r(&ts.tv_sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	ms = ts.tv_nsec / 1000000;
	memcpy(t, cached, 19);
	t[19] = '.';
	t[20] = (char)('0' + ms / 100);
	t[21] = (char)('0' + ms / 10 % 10);
	t[22] = (char)('0' + ms % 10);
	t[23] = 'Z';
	t[24] = '"';
	PUTS(l, "{\"time\":\"");
	put(l, t, 25);
	PUTS(l, ",\"event\":");
	put_str(l, event);
	if (step >= 0) {
		PUTS(l, ",\"step\":");
		put_long(l, step);
	}
}

/* End the line and write it. */
static int
finish(struct line *l)
{
	int rc;

	PUTS(l, "\n");
	if (l->err) {
		errno = l->err;
		rc = -1;
	} else {
		rc = xtlog_write(l->buf, l->len);
	}
	line_release(l);
	return rc;
}

static int
einval(void)
{
	errno = EINVAL;
	return -1;
}

/*
 * Not a name in the sense of name_check() (name.h): 1-128 letters, digits,
 * "._-", not starting with '.' or '-'. Repeated here so that a program
 * linking this file needs nothing of the store.
 */
static int
bad_name(const char *s)
{
	size_t n;

	if (!s || !*s || *s == '.' || *s == '-')
		return 1;
	for (n = 0; s[n]; n++)
		if (n >= 128 || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return 1;
	return 0;
}

int
xtlog_metrics(long step, size_t n, const char *const *names, const double *values)
{
	char stack[4096];
	struct line l;
	size_t i;

	if (n == 0 || !names || !values)
		return einval();
	for (i = 0; i < n; i++)
		if (!names[i] || !*names[i])
			return einval();
	/* fail early without a file, as the other calls do */
	if (xtlog_open() < 0)
		return -1;
	line_init(&l, stack, sizeof(stack));
	put_head(&l, "metrics", step);
	PUTS(&l, ",\"data\":{");
	for (i = 0; i < n; i++) {
		if (i)
			PUTS(&l, ",");
		put_str(&l, names[i]);
		PUTS(&l, ":");
		put_num(&l, values[i]);
	}
	PUTS(&l, "}}");
	return finish(&l);
}

int
xtlog_metric(const char *name, double value, long step)
{
	return xtlog_metrics(step, 1, &name, &value);
}

enum { V_NUM, V_STR, V_TRUE };

/* {"event":event,"data":{name:value}}, the value a number, a string or true. */
static int
one(const char *event, const char *name, int kind, const char *str, double num)
{
	char stack[4096];
	struct line l;

	if (!name || !*name || (kind == V_STR && !str))
		return einval();
	if (xtlog_open() < 0)
		return -1;
	line_init(&l, stack, sizeof(stack));
	put_head(&l, event, -1);
	PUTS(&l, ",\"data\":{");
	put_str(&l, name);
	PUTS(&l, ":");
	if (kind == V_NUM)
		put_num(&l, num);
	else if (kind == V_STR)
		put_str(&l, str);
	else
		PUTS(&l, "true");
	PUTS(&l, "}}");
	return finish(&l);
}

int
xtlog_hparam_num(const char *name, double value)
{
	return one("hparams", name, V_NUM, NULL, value);
}

int
xtlog_hparam_str(const char *name, const char *value)
{
	return one("hparams", name, V_STR, value, 0);
}

int
xtlog_tag(const char *name, const char *value)
{
	if (bad_name(name))
		return einval();
	return one("tags", name, value ? V_STR : V_TRUE, value, 0);
}

int
xtlog_event(const char *event, const char *json_data)
{
	char stack[4096], *text = NULL;
	struct line l;
	cJSON *data;

	if (bad_name(event))
		return einval();
	if (json_data) {
		char *clean = NULL;
		size_t n;

		/* NaN and Infinity as Python writes them; bytes that are not UTF-8 */
		if (xtlog_clean(json_data, strlen(json_data), &clean, &n) < 0)
			return -1;
		data = cJSON_Parse(clean ? clean : json_data);
		free(clean);
		if (!cJSON_IsObject(data)) {
			cJSON_Delete(data);
			return einval();
		}
		text = cJSON_PrintUnformatted(data);
		cJSON_Delete(data);
		if (!text) {
			errno = ENOMEM;
			return -1;
		}
	}
	if (xtlog_open() < 0) {
		free(text);
		return -1;
	}
	line_init(&l, stack, sizeof(stack));
	put_head(&l, event, -1);
	if (text) {
		PUTS(&l, ",\"data\":");
		put(&l, text, strlen(text));
		free(text);
	}
	PUTS(&l, "}");
	return finish(&l);
}
