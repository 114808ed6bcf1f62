/*
 * version.h: xt's version, set by the build: the VERSION file at the top
 * of the tree, with "+" and git describe's name of the commit appended
 * when the tree was built from a git checkout (Makefile, XT_VERSION).
 */
#ifndef XT_VERSION_H
#define XT_VERSION_H

/* The version string, "0.9.0" or "0.9.0+7a12e87-dirty". Static storage. */
const char *version_string(void);
/*
 * When argv[1] is "--version": print "PROG VERSION" (PROG as set by
 * util_setprog) on standard output and exit 0, or 1 when standard output
 * cannot be written. Otherwise return. Every tool calls it first.
 */
void version_option(int argc, char **argv);

#endif
