/*
 * show.h: one run's whole story for xt-report show: where it ran, its
 * status and times, hparams, last metrics, tags, captured files and the
 * last lines of its console.
 */
#ifndef XT_SHOW_H
#define XT_SHOW_H

#include <stdio.h>

#include "store.h"

/*
 * Print run (a name in workspace ws) to fp: as text, or with json its
 * record as one JSON line. lines: how many console lines to show at most.
 * Returns 0, or 1 after a message on stderr (no such run, a store error).
 */
int show_run(struct store *st, const char *ws, const char *run, long lines, int json, FILE *fp);

#endif
