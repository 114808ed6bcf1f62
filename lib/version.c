/* version.c: see version.h. */
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "version.h"
#include "banned.h"

#ifndef XT_VERSION
#define XT_VERSION "unknown"
#endif

const char *
version_string(void)
{
	return XT_VERSION;
}

void
version_option(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--version") != 0)
		return;
	printf("%s %s\n", util_prog(), version_string());
	stdout_close();
	exit(EXIT_OK);
}
