/*
 * fuzz.h: what every fuzz target of tests/fuzz/ shares.
 *
 * A target is one file f-<noun>.c defining LLVMFuzzerTestOneInput() for one
 * parser of lib/. Built with clang -fsanitize=fuzzer (make fuzz), libFuzzer
 * drives it; built with main.c (make all, make san), it runs over the files
 * it is given: the regression run of tests/t0010-fuzz-corpus.sh over
 * tests/fuzz/corpus/<noun>/.
 */
#ifndef XT_FUZZ_H
#define XT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* data as a NUL-terminated string (a NUL inside ends it early). Caller frees. */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A broken promise of lib/: abort, so both drivers report it with the input. */
#define FUZZ_ASSERT(cond) do { if (!(cond)) abort(); } while (0)

#endif
