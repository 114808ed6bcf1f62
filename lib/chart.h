/*
 * chart.h: xt-report plot. Gathers metric series from the selected runs'
 * logs (metrics events: x the step or the seconds since the run's start,
 * its first "started" event), smooths, aggregates, lays them out in panels and hands them to
 * the renderer (plot.h): an SVG file or text for a terminal. With --vs
 * COL, a scatter of each run's last metric value against COL instead.
 */
#ifndef XT_CHART_H
#define XT_CHART_H

#include <stdio.h>

#include "report.h"

struct chart_opts {
	char **metrics;
	size_t nmetrics;
	char *out;		/* -o FILE.svg */
	int term;		/* --term */
	int xtime;		/* --x time */
	/* --xlog 1, --no-xlog 0, -1: log when --vs names an hparam a job's space samples on a log scale; --ylog */
	int xlog, ylog;
	double smooth;		/* --smooth, [0, 1) */
	int agg;		/* -1: none, else enum plot_agg */
	int band;		/* enum plot_band */
	char *break_on;		/* "run", a field path, or NULL */
	int rows, cols;		/* --layout */
	char *legend;		/* template: "{run} lr={hparams.lr}" */
	char *vs;		/* scatter against this field */
	char *title;
	int width, height, ascii;
	int color;		/* --color 1, --no-color 0, -1: when fp is a colour terminal (util.h: color_tty) */
	char err[512];
};

void chart_opts_init(struct chart_opts *co);
void chart_opts_release(struct chart_opts *co);
/* Take one plot option: c is its code in xt-report's option table, 'o' or 't'. 0, or -1 (unknown or bad: co->err). */
int chart_opt(struct chart_opts *co, int c, const char *arg);
void chart_add_metric(struct chart_opts *co, const char *name);
/* Check the options and add the fields the chart reads to r (before report_begin). 0 or -1 (co->err). */
int chart_prepare(struct chart_opts *co, struct report *r);
/*
 * Draw the runs that r kept (after the records were read). Returns 0, 1
 * after a message on stderr (no series to draw, a write error), or 2
 * after one naming a --legend field that no selected run has.
 */
int chart_run(struct chart_opts *co, struct report *r, FILE *fp);

/*
 * Expand a legend template: each {FIELD} or {FIELD:FORMAT} replaced by the
 * row's value of FIELD; a number with FORMAT (a printf conversion of e, f
 * or g: ".2e", "8.3f") as it says, without one short (an integer whole,
 * else 3 significant digits, as "%.3g"). Caller frees.
 */
char *chart_legend(const struct report *r, const struct report_row *row, const char *tmpl);

#endif
