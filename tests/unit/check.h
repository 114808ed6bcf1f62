/*
 * check.h: the unit tests' only machinery. CHECK(cond) prints a TAP line
 * and counts; check_done() prints the plan and returns the exit status.
 */
#ifndef XT_CHECK_H
#define XT_CHECK_H

#include <stdio.h>

static int check_n, check_failed;

#define CHECK(cond) check_one(!!(cond), #cond, __FILE__, __LINE__)

static inline int
check_one(int ok, const char *what, const char *file, int line)
{
	check_n++;
	if (ok) {
		printf("ok %d - %s\n", check_n, what);
	} else {
		check_failed++;
		printf("not ok %d - %s (%s:%d)\n", check_n, what, file, line);
	}
	return ok;
}

static inline int
check_done(void)
{
	printf("1..%d\n", check_n);
	return check_failed ? 1 : 0;
}

#endif
