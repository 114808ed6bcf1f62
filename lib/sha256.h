/*
 * sha256.h: SHA-256 of buffers and files, as lowercase hex.
 *
 * On x86-64 CPUs with the SHA extensions (SHA-NI, with SSSE3 and SSE4.1)
 * the blocks are hashed with those instructions; elsewhere, or when the
 * environment variable XT_SHA256 is "portable", BearSSL's br_sha256 does
 * the work. The choice is made once per process, on the first sha256_init,
 * and both give the same hashes.
 */
#ifndef XT_SHA256_H
#define XT_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <bearssl.h>

#define SHA256_HEX 65	/* 64 hex digits and a NUL */

/*
 * A running hash. The members are private to sha256.c; ni says which path
 * this context took at sha256_init (1 SHA-NI, 0 BearSSL), and only that
 * path's members are used.
 */
struct sha256 {
	int ni;
	uint32_t state[8];	/* SHA-NI: a..h */
	unsigned char buf[64];	/* SHA-NI: the partial block */
	uint64_t count;		/* SHA-NI: bytes so far */
	br_sha256_context br;	/* BearSSL */
};

/* Start a new hash in h. No release is needed: h owns no memory. */
void sha256_init(struct sha256 *h);
/* Add len bytes at data (data may be NULL when len is 0). */
void sha256_update(struct sha256 *h, const void *data, size_t len);
/*
 * Finish and write 64 hex digits and a NUL into hex. h is left as it was,
 * so more data may follow for a hash of the longer input.
 */
void sha256_hex(struct sha256 *h, char hex[SHA256_HEX]);
/* Hash of a buffer, as hex. */
void sha256_buf(const void *data, size_t len, char hex[SHA256_HEX]);
/* Hash of a file's content; 0, or -1 with errno. Sets *size when not NULL. */
int sha256_file(const char *path, char hex[SHA256_HEX], long long *size);
/* True when s is 64 lowercase hex digits. */
int sha256_valid(const char *s);

#endif
