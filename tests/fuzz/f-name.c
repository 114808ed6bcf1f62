/*
 * f-name.c: names and store paths (lib/name.c). Whatever the input, a path
 * name_resolve() returns passes name_path_check(), and a name that
 * name_check() accepts resolves.
 */
#include <stdio.h>

#include "fuzz.h"
#include "name.h"
#include "banned.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *p;
	char err[256];
	long n, k;
	int root;

	if (name_check(s, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(strlen(s) >= 1 && strlen(s) <= 128 && !strchr(s, '/'));
		p = name_resolve(s, "ws1", 0, err, sizeof(err));
		FUZZ_ASSERT(p);
		free(p);
	}
	name_path_check(s, err, sizeof(err));
	if (name_parse_run(s, &n, &k) == 1)
		FUZZ_ASSERT(n >= 0);
	if (name_parse_job(s, &n) == 1)
		FUZZ_ASSERT(n >= 0);
	for (root = 0; root <= 1; root++) {
		if ((p = name_resolve(s, "ws1", root, err, sizeof(err)))) {
			FUZZ_ASSERT(*p ? name_path_check(p, err, sizeof(err)) == 0 : root);
			free(p);
		}
	}
	free(s);
	return 0;
}
