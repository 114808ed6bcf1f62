/*
 * plot.h: charts of metric series, drawn as SVG or as text for a terminal.
 * Rendering and series arithmetic only: no store, no JSON. xt-report
 * gathers the series from runs' logs and calls these.
 */
#ifndef XT_PLOT_H
#define XT_PLOT_H

#include <stddef.h>
#include <stdio.h>

/*
 * One line of a chart: n points, x ascending (or a cloud of points on a
 * scatter panel). lo and hi, when not NULL, bound a band drawn around y
 * (aggregates). The caller owns the memory.
 */
struct plot_series {
	const char *label;
	const double *x, *y;
	const double *lo, *hi;
	size_t n;
};

/* One chart of a layout. */
struct plot_panel {
	const char *title;
	const char *xlabel, *ylabel;
	const struct plot_series *s;
	size_t ns;
	int scatter;		/* points, not lines */
	int xlog, ylog;		/* log10 axes: values <= 0 are not drawn, ticks at powers of ten */
};

/* A figure: panels laid out rows x cols (0, 0: chosen from np). */
struct plot {
	const char *title;
	const struct plot_panel *p;
	size_t np;
	int rows, cols;
	int width, height;	/* SVG: pixels of the figure; terminal: columns and lines; 0: default */
	int ascii;		/* terminal: plain ASCII instead of Unicode braille */
	int color;		/* terminal: ANSI colours */
};

/*
 * Write a standalone SVG document: per panel axes, ticks, tick labels,
 * axis labels and a legend; one <path> element per line series (with a
 * band drawn as a separate filled polygon), one <g> of circles per
 * scatter series. Non-finite points are skipped. 0, or -1 on a write error.
 *
 * Both renderers: a series' colour (and ASCII glyph) comes from its index
 * in its panel, so a run keeps its colour across panels when it keeps its
 * place: in SVG 20 colours, then the same dashed, dotted and dash-dotted;
 * on a terminal 12 colours and 10 glyphs. A log axis (xlog, ylog) leaves
 * out values <= 0 and is ticked at 1, 2 and 5 times powers of ten, or at
 * every power or every Nth when those do not fit. Series with a NULL or empty label are drawn but left out of the
 * legend; a legend that does not fit ends with "+N more". NULL or empty
 * titles and axis labels take no room. The layout has at most 64 columns;
 * panels past rows x cols are not drawn. Labels are UTF-8 (bad bytes are
 * replaced). Default SVG size: 640 x 400 pixels per panel (plus 36 for a
 * figure title); a lone point between breaks is drawn as a small ring; a
 * series with more points than 4 per pixel is drawn through each pixel
 * column's extremes. In SVG, a panel is a <g class="panel">, its series in
 * its <g class="data">, lines are <path class="line">, bands
 * <g class="band"> of <polygon>s, scatter series <g class="scatter">.
 */
int plot_svg(FILE *f, const struct plot *pl);

/*
 * Write the figure as text: frame, tick labels, one glyph or colour per series, a legend. 0 or -1.
 * Width and height (default 80 x 24) are the whole figure's, in columns
 * and lines, title and legends included (at least 16 x 6 per panel);
 * every line ends with '\n', trailing blanks cut. Braille lines without
 * colour end with their series' glyph when a panel has several series
 * (the legend shows it); band edges are dotted ('.' in ASCII). Output
 * depends on the input only.
 */
int plot_term(FILE *f, const struct plot *pl);

/*
 * The ticks of an axis over [lo, hi] (finite; one value or lo > hi are
 * widened around it or to 0..1): the finest step of 1, 2 or 5 times a
 * power of ten that needs at most maxticks ticks (>= 2) once the range is
 * widened to the first and last tick. Writes up to max values to t and
 * returns how many ticks there are. Both renderers place their ticks so.
 */
int plot_ticks(double lo, double hi, int maxticks, double *t, size_t max);

/*
 * Smooth y in place with TensorBoard's exponential moving average, weight w
 * in [0, 1) (0: unchanged), debiased so that the first points are not
 * pulled toward zero. Non-finite values are left as they are and skipped.
 */
void plot_smooth(double *y, size_t n, double w);

enum plot_agg { PLOT_MEAN, PLOT_MEDIAN };
enum plot_band { PLOT_BAND_NONE, PLOT_BAND_STD, PLOT_BAND_MINMAX, PLOT_BAND_SEM };

/*
 * Aggregate n series into one over the union of their x values: at each x,
 * the mean or median of the series that have a point at that x, and the
 * band (mean +- std, min..max, mean +- standard error; none: lo = hi =
 * NULL). out's arrays are allocated (free with plot_series_free); out->label
 * is left to the caller. 0, or -1 when no series has a point.
 * Points with a non-finite x or y are skipped; a series with several points
 * at one x counts once, by its last. std is the sample deviation (n - 1;
 * 0 for one value), sem = std / sqrt(n); std and sem bands are centred on
 * the aggregate (the median when PLOT_MEDIAN).
 */
int plot_aggregate(const struct plot_series *in, size_t n, enum plot_agg agg,
    enum plot_band band, struct plot_series *out);
void plot_series_free(struct plot_series *s);

#endif
