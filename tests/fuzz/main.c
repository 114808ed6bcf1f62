/*
 * main.c: the regression driver of the fuzz targets. Each operand is a file,
 * or a folder whose files are each one input; every input goes once through
 * LLVMFuzzerTestOneInput(). Prints "N inputs" and exits 0, or 1 when an
 * input cannot be read (a crash is the sanitizers' to report).
 *   f-<noun> FILE|DIR...
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "util.h"
#include "banned.h"

static int
run_file(const char *path)
{
	struct sbuf sb;
	int rc = 0;

	sbuf_init(&sb, (size_t)1 << 24);
	if (file_read(path, &sb) < 0) {
		fprintf(stderr, "fuzz: cannot read '%s': %s\n", path, strerror(errno));
		rc = -1;
	} else {
		/* a copy of exactly its size, so that ASan sees a read past its end */
		uint8_t *copy = malloc(sb.len ? sb.len : 1);

		if (!copy)
			abort();
		memcpy(copy, sb.buf, sb.len);
		LLVMFuzzerTestOneInput(copy, sb.len);
		free(copy);
	}
	sbuf_release(&sb);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every file of dir, in name order. The number run, or -1. */
static long
run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	long count = 0;

	if (!d) {
		fprintf(stderr, "fuzz: cannot open '%s': %s\n", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			if (!(names = realloc(names, cap * sizeof(*names))))
				abort();
		}
		names[n++] = path_join(dir, de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		if (count >= 0)
			count = run_file(names[i]) < 0 ? -1 : count + 1;
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	struct stat st;
	long n = 0, k;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			k = run_dir(argv[i]);
		else
			k = run_file(argv[i]) < 0 ? -1 : 1;
		if (k < 0)
			return 1;
		n += k;
	}
	printf("%ld inputs\n", n);
	return 0;
}
