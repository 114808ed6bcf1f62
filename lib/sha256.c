/*
 * sha256.c: see sha256.h.
 *
 * The SHA-NI path keeps its own state, in the order of FIPS 180-4 (a..h),
 * and does the buffering and padding in plain C; only the compression of
 * whole 64-byte blocks uses the SHA instructions. That function alone is
 * built with __attribute__((target)), so the rest of the file, and the
 * program, stays baseline x86-64 and runs on any CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "sha256.h"
#include "util.h"
#include "banned.h"

static const uint32_t H0[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#if defined(__x86_64__)
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/*
 * Compress n 64-byte blocks at p into st (a..h).
 *
 * SHA256RNDS2 does two rounds. It wants the state split in two registers,
 * {a, b, e, f} and {c, d, g, h}, each with its first letter in the top
 * lane (so "abef" holds f in lane 0), and W[t] + K[t] for the two rounds
 * in the low two lanes of a third. It returns the new {a, b, e, f}; the
 * new {c, d, g, h} is the old {a, b, e, f}, so the two registers simply
 * swap roles every two rounds. SHA256MSG1 and SHA256MSG2 compute the
 * sigma0 and sigma1 halves of the message schedule four words at a time;
 * the W[t-7] term is added in between.
 */
__attribute__((target("sha,sse4.1")))
static void
compress_ni(uint32_t st[8], const unsigned char *p, size_t n)
{
	/* Byte-swaps each 32-bit lane: the message words are big-endian. */
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL,
	    0x0405060700010203ULL);
	__m128i abef, cdgh, abef0, cdgh0, lo, hi, t, w7, wk, m[4];
	int i;

	/* {a,b,c,d} {e,f,g,h} (a in lane 0) to {a,b,e,f} {c,d,g,h}. */
	lo = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[0]), 0xb1);
	hi = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&st[4]), 0x1b);
	abef = _mm_alignr_epi8(lo, hi, 8);	/* lanes 3..0: a b e f */
	cdgh = _mm_blend_epi16(hi, lo, 0xf0);	/* lanes 3..0: c d g h */

	for (; n > 0; n--, p += 64) {
		abef0 = abef;
		cdgh0 = cdgh;
		/*
		 * Four rounds per pass, on m[i & 3] = W[4i..4i+3]. From i = 4
		 * on, M(0) still holds the words of pass i - 4, M(1) those of
		 * i - 3, M(2) of i - 2 and M(3) of i - 1. Unrolled, the
		 * indexes are constants and m stays in registers.
		 */
#define M(j) m[(i + (j)) & 3]
#pragma GCC unroll 16
		for (i = 0; i < 16; i++) {
			if (i < 4) {
				t = _mm_loadu_si128((const __m128i *)p + i);
				m[i] = _mm_shuffle_epi8(t, bswap);
			} else {
				/* W[t-16] + sigma0(W[t-15]) + W[t-7] */
				t = _mm_sha256msg1_epu32(M(0), M(1));
				w7 = _mm_alignr_epi8(M(3), M(2), 4);
				t = _mm_add_epi32(t, w7);
				/* + sigma1(W[t-2]) */
				M(0) = _mm_sha256msg2_epu32(t, M(3));
			}
			wk = _mm_add_epi32(m[i & 3],
			    _mm_loadu_si128((const __m128i *)&K[4 * i]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			abef = _mm_sha256rnds2_epu32(abef, cdgh,
			    _mm_shuffle_epi32(wk, 0x0e));
		}
#undef M
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}

	/* And back: {a,b,e,f} {c,d,g,h} to {a,b,c,d} {e,f,g,h}. */
	lo = _mm_shuffle_epi32(abef, 0x1b);	/* lanes 3..0: f e b a */
	hi = _mm_shuffle_epi32(cdgh, 0xb1);	/* lanes 3..0: d c h g */
	_mm_storeu_si128((__m128i *)&st[0], _mm_blend_epi16(lo, hi, 0xf0));
	_mm_storeu_si128((__m128i *)&st[4], _mm_alignr_epi8(hi, lo, 8));
}

/* SHA (leaf 7, EBX bit 29), and the SSSE3 and SSE4.1 that go with it. */
static int
cpu_has_ni(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d))
		return 0;
	if (!(c & bit_SSSE3) || !(c & bit_SSE4_1))
		return 0;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return 0;
	return (b & bit_SHA) != 0;
}
#else
/* Never called: cpu_has_ni() is 0, so no context takes the SHA-NI path. */
static void
compress_ni(uint32_t st[8], const unsigned char *p, size_t n)
{
	(void)st;
	(void)p;
	(void)n;
	abort();
}

static int
cpu_has_ni(void)
{
	return 0;
}
#endif

/*
 * Whether new contexts take the SHA-NI path, decided on the first call.
 * Threads that race here compute the same answer; the atomics only keep
 * that race well defined.
 */
static int
use_ni(void)
{
	static int known = -1;
	const char *e;
	int v;

	v = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (v < 0) {
		e = getenv("XT_SHA256");
		v = !(e != NULL && strcmp(e, "portable") == 0) && cpu_has_ni();
		__atomic_store_n(&known, v, __ATOMIC_RELAXED);
	}
	return v;
}

static void
ni_update(struct sha256 *h, const unsigned char *p, size_t len)
{
	size_t fill = (size_t)(h->count & 63), n;

	h->count += len;
	if (fill > 0) {
		n = 64 - fill < len ? 64 - fill : len;
		memcpy(h->buf + fill, p, n);
		if (fill + n < 64)
			return;
		compress_ni(h->state, h->buf, 1);
		p += n;
		len -= n;
	}
	if (len >= 64) {
		compress_ni(h->state, p, len / 64);
		p += len & ~(size_t)63;
		len &= 63;
	}
	if (len > 0)
		memcpy(h->buf, p, len);
}

/* Pad a copy of the state (h is left as it was) and write the hash. */
static void
ni_out(const struct sha256 *h, unsigned char out[32])
{
	unsigned char blk[64];
	uint32_t st[8];
	uint64_t bits = h->count << 3;
	size_t fill = (size_t)(h->count & 63);
	int i;

	memcpy(st, h->state, sizeof(st));
	memcpy(blk, h->buf, fill);
	blk[fill++] = 0x80;
	if (fill > 56) {
		memset(blk + fill, 0, 64 - fill);
		compress_ni(st, blk, 1);
		fill = 0;
	}
	memset(blk + fill, 0, 56 - fill);
	for (i = 0; i < 8; i++)
		blk[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	compress_ni(st, blk, 1);
	for (i = 0; i < 32; i++)
		out[i] = (unsigned char)(st[i / 4] >> (24 - 8 * (i % 4)));
}

void
sha256_init(struct sha256 *h)
{
	h->ni = use_ni();
	if (h->ni) {
		memcpy(h->state, H0, sizeof(h->state));
		h->count = 0;
	} else {
		br_sha256_init(&h->br);
	}
}

void
sha256_update(struct sha256 *h, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (h->ni)
		ni_update(h, data, len);
	else
		br_sha256_update(&h->br, data, len);
}

void
sha256_hex(struct sha256 *h, char hex[SHA256_HEX])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char out[32];
	int i;

	if (h->ni)
		ni_out(h, out);
	else
		br_sha256_out(&h->br, out);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[out[i] >> 4];
		hex[2 * i + 1] = digits[out[i] & 15];
	}
	hex[64] = '\0';
}

void
sha256_buf(const void *data, size_t len, char hex[SHA256_HEX])
{
	struct sha256 h;

	sha256_init(&h);
	sha256_update(&h, data, len);
	sha256_hex(&h, hex);
}

int
sha256_file(const char *path, char hex[SHA256_HEX], long long *size)
{
	/* not static: threads hash files at once (xt-get -P); not on the stack: musl's threads have 128 KB */
	enum { BUFSZ = 1 << 17 };
	char *buf;
	struct sha256 h;
	long long total = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;

	if (fd < 0)
		return -1;
	buf = xmalloc(BUFSZ);
	sha256_init(&h);
	while ((n = read(fd, buf, BUFSZ)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			free(buf);
			close(fd);
			errno = e;
			return -1;
		}
		sha256_update(&h, buf, (size_t)n);
		total += n;
	}
	free(buf);
	close(fd);
	sha256_hex(&h, hex);
	if (size)
		*size = total;
	return 0;
}

int
sha256_valid(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (s[i] == '\0' || strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	return s[64] == '\0';
}
