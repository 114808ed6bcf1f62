/*
 * plot.c: see plot.h. Charts of metric series as a standalone SVG document
 * or as text for a terminal (Unicode braille, 2x4 dots per cell, or plain
 * ASCII), and the series arithmetic behind them: TensorBoard's smoothing
 * and aggregation across runs.
 *
 * Both renderers share the layout rules: panels in a rows x cols grid, each
 * with its data range over the finite points (bands included) widened to
 * "nice" tick bounds (1, 2 or 5 times a power of ten). Output depends only
 * on the input, so it can be compared byte for byte.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "stats.h"
#include "util.h"
#include "banned.h"

#define MAXTICKS 64

/*
 * Tableau 10, a qualitative palette whose colours stay apart, then ten
 * darker hues apart from them; past these 20, the colours again, dashed.
 */
static const char *const svg_colors[] = {
	"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
	"#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
	"#1b3a6b", "#a34100", "#7a0c1e", "#00695c", "#2e5e1a",
	"#8a7300", "#5b2a7e", "#c2185b", "#4e342e", "#37474f",
};
#define NSVGCOLORS (sizeof(svg_colors) / sizeof(svg_colors[0]))

/* The dash pattern of series k: solid through the palette, then dashed, dotted, dash-dotted. */
static const char *
svg_dash(size_t k)
{
	static const char *const dashes[] = {
		"", " stroke-dasharray=\"7 3\"", " stroke-dasharray=\"2 2\"", " stroke-dasharray=\"8 3 2 3\"",
	};

	return dashes[k / NSVGCOLORS % (sizeof(dashes) / sizeof(dashes[0]))];
}

/* ANSI foreground colours, the closest to the palette's order; 12, so that with 10 glyphs series repeat both only every 60. */
static const int term_colors[] = { 34, 33, 31, 36, 32, 93, 35, 95, 94, 90, 91, 96 };
#define NTERMCOLORS (sizeof(term_colors) / sizeof(term_colors[0]))

/* Glyphs of series in ASCII mode. */
static const char ascii_glyphs[] = "*+ox#@%&=~";
#define NGLYPHS (sizeof(ascii_glyphs) - 1)

/* An axis: bounds, and ticks at (i0 + i) * step for i in [0, n). */
struct axis {
	double lo, hi;
	double step, i0;
	int n;
	int decimals;		/* -1: "%g"-like with sig significant digits */
	int sig;
	int log;		/* set by the caller: the values are log10s, ticked at lt[] */
	double lt[MAXTICKS];	/* log: the ticks (log10s of 1, 2, 5 times powers of ten) */
};

/* ---- numbers and ticks ---- */

/* v's place between lo and hi as 0..1; halved first so no difference overflows. */
static double
frac(double v, double lo, double hi)
{
	double d = hi * 0.5 - lo * 0.5;

	return d > 0 ? (v * 0.5 - lo * 0.5) / d : 0.5;
}

/* The next of 1, 2, 5 times a power of ten after step (one of them). */
static double
next_step(double step)
{
	double mag = pow(10, floor(log10(step) + 1e-9)), f = step / mag;

	if (f < 1.5)
		return 2 * mag;
	if (f < 3.5)
		return 5 * mag;
	return 10 * mag;
}

static double
tick_value(const struct axis *a, int i)
{
	if (a->log)
		return a->lt[i];
	if (a->step == 0)
		return i == 0 ? a->lo : a->hi;
	return (a->i0 + i) * a->step;
}

/* Tick j of a log axis: m mantissas a decade, a decade every s (in log10). */
static double
log_tick(long j, const double *mant, long m, double s)
{
	long d = j >= 0 ? j / m : -((-j + m - 1) / m);

	return (double)d * s + log10(mant[j - d * m]);
}

/*
 * A log axis over the exponents [lo, hi] (lo <= hi; a lone value is
 * widened half a decade each side): the finest of ticks at 1, 2 and 5
 * times the powers of ten, at each power, or at every 2nd, 5th, 10th, ...
 * that needs at most maxticks ticks once the range is widened to them.
 */
static void
axis_fit_log(struct axis *a, double lo, double hi, int maxticks)
{
	static const double m125[] = { 1, 2, 5 }, m1[] = { 1 };
	const double *mant = m125;
	long m = 3, j0, j1, i;
	double s = 1;

	if (lo >= hi) {
		lo -= 0.5;
		hi += 0.5;
	}
	maxticks = maxticks < 2 ? 2 : maxticks > MAXTICKS ? MAXTICKS : maxticks;
	for (;;) {
		j0 = (long)floor(lo / s) * m;
		while (log_tick(j0 + 1, mant, m, s) <= lo + 1e-9)
			j0++;
		for (j1 = j0; j1 - j0 < maxticks && log_tick(j1, mant, m, s) < hi - 1e-9; j1++)
			;
		if (j1 - j0 < maxticks || s > 1000)
			break;
		if (m == 3) {
			mant = m1;
			m = 1;
		} else {
			s = next_step(s);
		}
	}
	a->n = (int)(j1 - j0 + 1 < MAXTICKS ? j1 - j0 + 1 : MAXTICKS);
	for (i = 0; i < a->n; i++)
		a->lt[i] = log_tick(j0 + i, mant, m, s);
	a->lo = a->lt[0];
	a->hi = a->lt[a->n - 1];
	a->step = s;
	a->i0 = 0;
	a->decimals = -1;
	a->sig = 6;
}

/*
 * Fit an axis to the data range [lo, hi] (finite, lo <= hi; lo > hi when
 * there is no data) with about maxticks ticks, widening the range to the
 * first and last tick. An empty or one-value range is widened around its
 * value first.
 */
static void
axis_fit(struct axis *a, double lo, double hi, int maxticks)
{
	double span, step, d, top;

	if (lo > hi) {
		lo = 0;
		hi = 1;
	}
	if (a->log) {
		axis_fit_log(a, lo, hi, maxticks);
		return;
	}
	if (lo == hi) {
		d = fabs(lo) * 0.1;
		if (!(d > 0) || lo - d == lo)
			d = 1;
		lo -= d;
		hi += d;
	}
	if (!isfinite(lo))
		lo = -DBL_MAX;
	if (!isfinite(hi))
		hi = DBL_MAX;
	if (maxticks < 2)
		maxticks = 2;
	if (maxticks > MAXTICKS)
		maxticks = MAXTICKS;
	a->lo = lo;
	a->hi = hi;
	span = hi - lo;
	/* The finest step of 1, 2, 5 x 10^k whose ticks, ends widened, are at most maxticks. */
	step = isfinite(span) ? pow(10, floor(log10(span / (maxticks - 1))) - 1) : 0;
	for (; step > 0 && isfinite(step); step = next_step(step)) {
		a->i0 = floor(lo / step + 1e-9);
		top = ceil(hi / step - 1e-9);
		if (top - a->i0 + 1 > maxticks)
			continue;
		if (top - a->i0 >= 1 && isfinite(a->i0 * step) && isfinite(top * step)) {
			a->step = step;
			a->n = (int)(top - a->i0) + 1;
			a->lo = a->i0 * step;
			a->hi = top * step;
			goto labels;
		}
		break;
	}
	/* No nice ticks fit (a range near the limits of double): the two ends. */
	a->step = 0;
	a->i0 = 0;
	a->n = 2;
labels:
	d = fmax(fabs(a->lo), fabs(a->hi));
	if (a->step > 0 && a->step >= 1e-4 && d < 1e7) {
		a->decimals = a->step >= 1 ? 0 : (int)ceil(-log10(a->step) - 1e-9);
		a->sig = 0;
	} else {
		a->decimals = -1;
		a->sig = a->step > 0 ? (int)(floor(log10(d)) - floor(log10(a->step) + 1e-9)) + 1 : 6;
		if (a->sig < 1)
			a->sig = 1;
		if (a->sig > 15)
			a->sig = 15;
	}
}

int
plot_ticks(double lo, double hi, int maxticks, double *t, size_t max)
{
	struct axis a = { 0 };
	int i;

	axis_fit(&a, lo, hi, maxticks);
	for (i = 0; i < a.n && (size_t)i < max; i++)
		t[i] = tick_value(&a, i);
	return a.n;
}

/* Format tick i of a into buf. */
static void
tick_label(const struct axis *a, int i, char *buf, size_t len)
{
	double v = tick_value(a, i);

	if (a->log) {
		snprintf(buf, len, "%g", pow(10, v));
		return;
	}
	if (a->step > 0 && fabs(v) < a->step * 1e-6)
		v = 0;		/* not "-0" or "1e-17" */
	if (a->decimals >= 0)
		snprintf(buf, len, "%.*f", a->decimals, v);
	else
		snprintf(buf, len, "%.*g", a->sig, v);
}

/* Width in characters of the widest tick label of a. */
static int
ticks_width(const struct axis *a)
{
	char buf[64];
	int i, w = 0, l;

	for (i = 0; i < a->n; i++) {
		tick_label(a, i, buf, sizeof(buf));
		l = (int)strlen(buf);
		if (l > w)
			w = l;
	}
	return w;
}

/*
 * Fit an x axis to [lo, hi] over a length of len units where a character
 * takes cw units and ticks are at least gap apart: as many ticks as fit
 * with their labels side by side.
 */
static void
axis_fit_x(struct axis *a, double lo, double hi, double len, double cw, double gap)
{
	int max = (int)(len / gap) + 1, fit;

	axis_fit(a, lo, hi, max);
	fit = (int)(len / (cw * (ticks_width(a) + 2))) + 1;
	if (fit < a->n) {
		axis_fit(a, lo, hi, fit);
		fit = (int)(len / (cw * (ticks_width(a) + 2))) + 1;
		if (fit < a->n)
			axis_fit(a, lo, hi, fit);
	}
}

static int
finite_point(const struct plot_series *s, size_t i)
{
	return isfinite(s->x[i]) && isfinite(s->y[i]);
}

/* The finite data range of a panel: x and y (bands included). lo > hi when none. */
static void
panel_range(const struct plot_panel *p, double *x0, double *x1, double *y0, double *y1)
{
	const struct plot_series *s;
	size_t i, k;

	*x0 = *y0 = INFINITY;
	*x1 = *y1 = -INFINITY;
	for (k = 0; k < p->ns; k++) {
		s = &p->s[k];
		if (!s->x || !s->y)
			continue;
		for (i = 0; i < s->n; i++) {
			if (!finite_point(s, i))
				continue;
			*x0 = fmin(*x0, s->x[i]);
			*x1 = fmax(*x1, s->x[i]);
			*y0 = fmin(*y0, s->y[i]);
			*y1 = fmax(*y1, s->y[i]);
			if (s->lo && isfinite(s->lo[i]))
				*y0 = fmin(*y0, s->lo[i]);
			if (s->hi && isfinite(s->hi[i]))
				*y1 = fmax(*y1, s->hi[i]);
		}
	}
}

static const double *
log_values(int on, const double *v, size_t n, double **to)
{
	double *o = *to;
	size_t i;

	if (!on || !v)
		return v;
	for (i = 0; i < n; i++)
		o[i] = v[i] > 0 ? log10(v[i]) : NAN;
	*to += n;
	return o;
}

/*
 * p in *out with the values on its log axes replaced by their log10s (a
 * value <= 0 by NaN: not drawn), so that the renderers draw it as a linear
 * panel with axes marked log. Returns the memory to free (NULL: *out is p).
 */
static void *
panel_log(const struct plot_panel *p, struct plot_panel *out)
{
	struct plot_series *sv;
	double *d;
	size_t k, total = 0;

	*out = *p;
	if (!p->xlog && !p->ylog)
		return NULL;
	for (k = 0; k < p->ns; k++)
		total += p->s[k].n;
	sv = xmalloc(p->ns * sizeof(*sv) + 4 * total * sizeof(*d) + 1);
	d = (double *)(sv + p->ns);
	for (k = 0; k < p->ns; k++) {
		sv[k] = p->s[k];
		if (!sv[k].x || !sv[k].y)
			continue;
		sv[k].x = log_values(p->xlog, sv[k].x, sv[k].n, &d);
		sv[k].y = log_values(p->ylog, sv[k].y, sv[k].n, &d);
		sv[k].lo = log_values(p->ylog, sv[k].lo, sv[k].n, &d);
		sv[k].hi = log_values(p->ylog, sv[k].hi, sv[k].n, &d);
	}
	out->s = sv;
	return sv;
}

/* Rows and columns of the layout: as asked, grown to hold every panel. */
static void
layout(const struct plot *pl, int *rows, int *cols)
{
	int np = pl->np > 4096 ? 4096 : (int)pl->np;
	int r = pl->rows > 0 ? pl->rows : 0, c = pl->cols > 0 ? pl->cols : 0;

	if (r > 64)
		r = 64;
	if (c > 64)
		c = 64;

	if (np < 1)
		np = 1;
	if (!r && !c) {
		c = (int)ceil(sqrt((double)np));
		r = (np + c - 1) / c;
	} else if (!r) {
		r = (np + c - 1) / c;
	} else if (!c) {
		c = (np + r - 1) / r;
	} else if (r * c < np) {
		r = (np + c - 1) / c;
	}
	*rows = r;
	*cols = c;
}

/* ---- UTF-8 ---- */

/*
 * Decode one code point of s (not at its end). Returns the bytes used (>= 1);
 * *cp is U+FFFD for a malformed sequence, an overlong form or a surrogate.
 */
static int
utf8_next(const char *s, unsigned *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned c = u[0], min;
	int n, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return i;
		}
		c = c << 6 | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		c = 0xfffd;
	*cp = c;
	return n;
}

/* Encode cp into buf (>= 5 bytes), NUL-terminated. Returns the length. */
static int
utf8_put(unsigned cp, char *buf)
{
	int n;

	if (cp < 0x80) {
		buf[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		buf[0] = (char)(0xc0 | cp >> 6);
		buf[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		buf[0] = (char)(0xe0 | cp >> 12);
		buf[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		buf[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		buf[0] = (char)(0xf0 | cp >> 18);
		buf[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		buf[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		buf[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	buf[n] = '\0';
	return n;
}

/* Code points in s. */
static int
utf8_len(const char *s)
{
	unsigned cp;
	int n = 0;

	while (*s) {
		s += utf8_next(s, &cp);
		n++;
	}
	return n;
}

/* ---- SVG ---- */

/*
 * Write s as XML character data or an attribute value: markup characters
 * escaped, UTF-8 kept, malformed bytes and characters XML forbids replaced
 * by U+FFFD, controls by a space; at most max code points (then an ellipsis).
 */
static void
xml_text(FILE *f, const char *s, int max)
{
	char buf[8];
	unsigned cp;
	int n = 0;

	if (!s)
		return;
	while (*s) {
		if (max >= 0 && n == max) {
			fputs("\xe2\x80\xa6", f);
			return;
		}
		s += utf8_next(s, &cp);
		n++;
		switch (cp) {
		case '&': fputs("&amp;", f); continue;
		case '<': fputs("&lt;", f); continue;
		case '>': fputs("&gt;", f); continue;
		case '"': fputs("&quot;", f); continue;
		case '\'': fputs("&apos;", f); continue;
		}
		if (cp < 0x20 || cp == 0x7f)
			cp = ' ';
		else if (cp == 0xfffe || cp == 0xffff)
			cp = 0xfffd;
		utf8_put(cp, buf);
		fputs(buf, f);
	}
}

/* Pixel geometry of one SVG panel. */
struct svg_box {
	double x0, y0, x1, y1;	/* plot area, y0 at the top */
	struct axis ax, ay;
};

static double
svg_px(const struct svg_box *b, double x)
{
	return b->x0 + frac(x, b->ax.lo, b->ax.hi) * (b->x1 - b->x0);
}

static double
svg_py(const struct svg_box *b, double y)
{
	return b->y1 - frac(y, b->ay.lo, b->ay.hi) * (b->y1 - b->y0);
}

/* The band of s: one polygon per stretch of points where x, lo and hi are finite. */
static void
svg_band(FILE *f, const struct svg_box *b, const struct plot_series *s, const char *color)
{
	size_t i, j, k;

	fprintf(f, "<g class=\"band\" fill=\"%s\" fill-opacity=\"0.2\" stroke=\"none\">\n", color);
	for (i = 0; i < s->n; i = j) {
		for (j = i; j < s->n && isfinite(s->x[j]) && isfinite(s->lo[j]) && isfinite(s->hi[j]); j++)
			;
		if (j > i) {
			fputs("<polygon points=\"", f);
			for (k = i; k < j; k++)
				fprintf(f, "%s%.1f,%.1f", k > i ? " " : "", svg_px(b, s->x[k]), svg_py(b, s->hi[k]));
			for (k = j; k-- > i;)
				fprintf(f, " %.1f,%.1f", svg_px(b, s->x[k]), svg_py(b, s->lo[k]));
			fputs("\"/>\n", f);
		}
		if (j == i)
			j++;
	}
	fputs("</g>\n", f);
}

/* A path's d attribute being written: a pen that moves, draws, and lifts. */
struct pen {
	FILE *f;
	int started;
	size_t seg;		/* points since the last move */
};

static void
pen_to(struct pen *p, double x, double y)
{
	fprintf(p->f, "%s%.1f %.1f", p->seg ? " L" : p->started ? " M" : "M", x, y);
	p->started = 1;
	p->seg++;
}

/* Lift the pen; a stretch of one point is drawn as a small ring around it. */
static void
pen_up(struct pen *p)
{
	if (p->seg == 1)
		fputs(" m-2.5 0 a2.5 2.5 0 1 0 5 0 a2.5 2.5 0 1 0 -5 0", p->f);
	p->seg = 0;
}

/*
 * The points of a series that fall in one pixel column, when a series has
 * many more points than the plot has pixels: the first, the lowest, the
 * highest and the last are enough to draw the same line.
 */
struct column {
	double col;
	size_t n, first, last, min, max;
	double y[4][2];		/* pixel positions of first, min, max, last */
};

static void
column_flush(struct column *c, struct pen *p)
{
	if (!c->n)
		return;
	pen_to(p, c->y[0][0], c->y[0][1]);
	if (c->min != c->first && c->min != c->last && c->min < c->max)
		pen_to(p, c->y[1][0], c->y[1][1]);
	if (c->max != c->first && c->max != c->last)
		pen_to(p, c->y[2][0], c->y[2][1]);
	if (c->min != c->first && c->min != c->last && c->min > c->max)
		pen_to(p, c->y[1][0], c->y[1][1]);
	if (c->last != c->first)
		pen_to(p, c->y[3][0], c->y[3][1]);
	c->n = 0;
}

static void
column_add(struct column *c, size_t i, double x, double y)
{
	if (!c->n) {
		c->col = floor(x);
		c->first = c->min = c->max = i;
		c->y[0][0] = c->y[1][0] = c->y[2][0] = x;
		c->y[0][1] = c->y[1][1] = c->y[2][1] = y;
	}
	/* Pixel y grows downward: the lowest value has the largest y. */
	if (y > c->y[1][1]) {
		c->min = i;
		c->y[1][0] = x;
		c->y[1][1] = y;
	}
	if (y < c->y[2][1]) {
		c->max = i;
		c->y[2][0] = x;
		c->y[2][1] = y;
	}
	c->last = i;
	c->y[3][0] = x;
	c->y[3][1] = y;
	c->n++;
}

/*
 * The line of s as one path; a non-finite point breaks it. A series with
 * more than 4 points per pixel of width is drawn through each column's
 * first, lowest, highest and last points.
 */
static void
svg_line(FILE *f, const struct svg_box *b, const struct plot_series *s, const char *color,
    const char *dash)
{
	struct pen pen = { f, 0, 0 };
	struct column col = { 0 };
	int thin = (double)s->n > 4 * (b->x1 - b->x0);
	double x, y;
	size_t i;

	fprintf(f, "<path class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"%s "
	    "stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\"", color, dash);
	for (i = 0; i < s->n; i++) {
		if (!finite_point(s, i)) {
			column_flush(&col, &pen);
			pen_up(&pen);
			continue;
		}
		x = svg_px(b, s->x[i]);
		y = svg_py(b, s->y[i]);
		if (!thin) {
			pen_to(&pen, x, y);
			continue;
		}
		if (col.n && floor(x) != col.col)
			column_flush(&col, &pen);
		column_add(&col, i, x, y);
	}
	column_flush(&col, &pen);
	pen_up(&pen);
	fputs("\">", f);
	if (s->label) {
		fputs("<title>", f);
		xml_text(f, s->label, -1);
		fputs("</title>", f);
	}
	fputs("</path>\n", f);
}

static void
svg_scatter(FILE *f, const struct svg_box *b, const struct plot_series *s, const char *color)
{
	size_t i;

	fprintf(f, "<g class=\"scatter\" fill=\"%s\" fill-opacity=\"0.8\">", color);
	if (s->label) {
		fputs("<title>", f);
		xml_text(f, s->label, -1);
		fputs("</title>", f);
	}
	fputc('\n', f);
	for (i = 0; i < s->n; i++)
		if (finite_point(s, i))
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\"/>\n",
			    svg_px(b, s->x[i]), svg_py(b, s->y[i]));
	fputs("</g>\n", f);
}

/* Labelled series of a panel (those in its legend). */
static size_t
labelled(const struct plot_panel *p)
{
	size_t k, n = 0;

	for (k = 0; k < p->ns; k++)
		if (p->s[k].label && *p->s[k].label)
			n++;
	return n;
}

#define SVG_CHAR 7.4		/* width of a character at 12px, on the wide side (digits of DejaVu Sans are 7.6) */
#define SVG_LEGEND_ROW 16

/*
 * Where legend entry i goes (the left of its line, its middle): at the
 * right of the plot area b, one a row; or, with under (the top of a band
 * under the plot, from px), in rows of cols entries colw wide.
 */
static void
legend_at(const struct svg_box *b, double under, double px, double colw, int cols, size_t i,
    double *x, double *y)
{
	if (!under) {
		*x = b->x1 + 12;
		*y = b->y0 + 8 + (double)i * SVG_LEGEND_ROW;
	} else {
		*x = px + 12 + (double)(i % (size_t)cols) * colw;
		*y = under + 8 + (double)(i / (size_t)cols) * SVG_LEGEND_ROW;
	}
}

/* Draw panel number idx of pl in the rectangle at (px, py) of size w x h. */
static void
svg_panel(FILE *f, const struct plot_panel *p, size_t idx, double px, double py, double w, double h)
{
	struct svg_box b;
	double dx0, dx1, dy0, dy1, left, right, v, lx, ly, colw = 0, below = 0, under;
	int i, maxc = 0, rows = 0, cols = 1, shown, c;
	size_t k, nl = labelled(p), drawn;
	char buf[64];
	const char *color;

	panel_range(p, &dx0, &dx1, &dy0, &dy1);
	b.ax.log = p->xlog;
	b.ay.log = p->ylog;
	for (k = 0; k < p->ns; k++)
		if (p->s[k].label && (c = utf8_len(p->s[k].label)) > maxc)
			maxc = c;
	/* The legend goes at the right while its longest label fits in a third
	 * of the panel, else under the plot in as many columns as fit (rows
	 * up to a third of the panel's height), so that labels are cut only
	 * when one is wider than the panel. */
	right = 16;
	if (nl && 44 + SVG_CHAR * maxc <= w * 0.35) {
		right = 44 + SVG_CHAR * maxc;
	} else if (nl) {
		colw = 34 + SVG_CHAR * maxc;
		cols = (int)((w - 24) / colw);
		if (cols < 1) {
			cols = 1;
			colw = w - 24;
		}
		rows = (int)((nl + (size_t)cols - 1) / (size_t)cols);
		if (rows > (int)(h / 3 / SVG_LEGEND_ROW))
			rows = (int)(h / 3 / SVG_LEGEND_ROW);
		if (rows < 1)
			rows = 1;
		below = rows * SVG_LEGEND_ROW + 6;
	}
	b.y0 = py + (p->title && *p->title ? 30 : 12);
	b.y1 = py + h - (p->xlabel && *p->xlabel ? 44 : 26) - below;
	if (b.y1 < b.y0 + 10)
		b.y1 = b.y0 + 10;
	axis_fit(&b.ay, dy0, dy1, (int)((b.y1 - b.y0) / 50) + 1);

	left = 14 + SVG_CHAR * ticks_width(&b.ay) + (p->ylabel && *p->ylabel ? 20 : 0);
	b.x0 = px + left;
	b.x1 = px + w - right;
	if (b.x1 < b.x0 + 10)
		b.x1 = b.x0 + 10;
	axis_fit_x(&b.ax, dx0, dx1, b.x1 - b.x0, SVG_CHAR, 50);

	fprintf(f, "<g class=\"panel\" id=\"panel%zu\">\n", idx);
	fprintf(f, "<clipPath id=\"clip%zu\"><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/></clipPath>\n",
	    idx, b.x0 - 2, b.y0 - 2, b.x1 - b.x0 + 4, b.y1 - b.y0 + 4);
	if (p->title && *p->title) {
		fprintf(f, "<text class=\"title\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\">",
		    (b.x0 + b.x1) / 2, py + 20);
		xml_text(f, p->title, -1);
		fputs("</text>\n", f);
	}

	/* Grid, ticks and tick labels. */
	fputs("<g class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\">\n", f);
	for (i = 0; i < b.ax.n; i++) {
		v = svg_px(&b, tick_value(&b.ax, i));
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", v, b.y0, v, b.y1);
	}
	for (i = 0; i < b.ay.n; i++) {
		v = svg_py(&b, tick_value(&b.ay, i));
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", b.x0, v, b.x1, v);
	}
	fputs("</g>\n<g class=\"axes\" stroke=\"#333333\" stroke-width=\"1\">\n", f);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", b.x0, b.y1, b.x1, b.y1);
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", b.x0, b.y0, b.x0, b.y1);
	for (i = 0; i < b.ax.n; i++) {
		v = svg_px(&b, tick_value(&b.ax, i));
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", v, b.y1, v, b.y1 + 5);
	}
	for (i = 0; i < b.ay.n; i++) {
		v = svg_py(&b, tick_value(&b.ay, i));
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", b.x0 - 5, v, b.x0, v);
	}
	fputs("</g>\n<g class=\"ticks\" fill=\"#333333\" font-size=\"11\">\n", f);
	for (i = 0; i < b.ax.n; i++) {
		tick_label(&b.ax, i, buf, sizeof(buf));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
		    svg_px(&b, tick_value(&b.ax, i)), b.y1 + 18, buf);
	}
	for (i = 0; i < b.ay.n; i++) {
		tick_label(&b.ay, i, buf, sizeof(buf));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
		    b.x0 - 8, svg_py(&b, tick_value(&b.ay, i)) + 4, buf);
	}
	fputs("</g>\n", f);
	if (p->xlabel && *p->xlabel) {
		fprintf(f, "<text class=\"xlabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
		    (b.x0 + b.x1) / 2, b.y1 + 36);
		xml_text(f, p->xlabel, -1);
		fputs("</text>\n", f);
	}
	if (p->ylabel && *p->ylabel) {
		lx = px + 16;
		ly = (b.y0 + b.y1) / 2;
		fprintf(f, "<text class=\"ylabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
		    "transform=\"rotate(-90 %.1f %.1f)\">", lx, ly, lx, ly);
		xml_text(f, p->ylabel, -1);
		fputs("</text>\n", f);
	}

	/* Data: bands under lines, clipped to the plot area. */
	fprintf(f, "<g class=\"data\" clip-path=\"url(#clip%zu)\">\n", idx);
	for (k = 0; k < p->ns; k++)
		if (!p->scatter && p->s[k].lo && p->s[k].hi && p->s[k].x)
			svg_band(f, &b, &p->s[k], svg_colors[k % NSVGCOLORS]);
	for (k = 0; k < p->ns; k++) {
		color = svg_colors[k % NSVGCOLORS];
		if (!p->s[k].x || !p->s[k].y) {
			struct plot_series none = { p->s[k].label, NULL, NULL, NULL, NULL, 0 };

			if (p->scatter)
				svg_scatter(f, &b, &none, color);
			else
				svg_line(f, &b, &none, color, svg_dash(k));
		} else if (p->scatter) {
			svg_scatter(f, &b, &p->s[k], color);
		} else {
			svg_line(f, &b, &p->s[k], color, svg_dash(k));
		}
	}
	fputs("</g>\n", f);

	/* The legend, by its rows (and columns, under the plot); what does not fit is counted. */
	if (nl) {
		if (!below) {
			rows = (int)((b.y1 - b.y0) / SVG_LEGEND_ROW);
			if (rows < 1)
				rows = 1;
			colw = right - 2;
		}
		shown = (size_t)rows * (size_t)cols >= nl ? (int)nl : rows * cols - 1;
		maxc = (int)((colw - 34) / SVG_CHAR);
		if (maxc < 1)
			maxc = 1;
		under = below ? py + h - below : 0;
		fputs("<g class=\"legend\" font-size=\"12\">\n", f);
		for (k = 0, drawn = 0; k < p->ns && (int)drawn < shown; k++) {
			if (!p->s[k].label || !*p->s[k].label)
				continue;
			color = svg_colors[k % NSVGCOLORS];
			legend_at(&b, under, px, colw, cols, drawn, &lx, &ly);
			if (p->scatter)
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>",
				    lx + 8, ly, color);
			else
				fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
				    "stroke-width=\"3\"%s/>", lx, ly, lx + 16, ly, color, svg_dash(k));
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 22, ly + 4);
			xml_text(f, p->s[k].label, maxc);
			fputs("</text>\n", f);
			drawn++;
		}
		if (drawn < nl) {
			legend_at(&b, under, px, colw, cols, drawn, &lx, &ly);
			fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#666666\">+%zu more</text>\n",
			    lx, ly + 4, nl - drawn);
		}
		fputs("</g>\n", f);
	}
	fputs("</g>\n", f);
}

int
plot_svg(FILE *f, const struct plot *pl)
{
	int rows, cols, r, c;
	double w, h, pw, ph, top;
	struct plot_panel lp;
	void *mem;
	size_t i;

	layout(pl, &rows, &cols);
	top = pl->title && *pl->title ? 36 : 0;
	w = pl->width > 0 ? pl->width : 640.0 * cols;
	h = pl->height > 0 ? pl->height : 400.0 * rows + top;
	pw = w / cols;
	ph = (h - top) / rows;

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	    "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n", w, h, w, h);
	fprintf(f, "<rect class=\"background\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", w, h);
	if (top) {
		fprintf(f, "<text class=\"figure-title\" x=\"%.1f\" y=\"24\" text-anchor=\"middle\" "
		    "font-size=\"16\" font-weight=\"bold\">", w / 2);
		xml_text(f, pl->title, -1);
		fputs("</text>\n", f);
	}
	for (i = 0; i < pl->np && i < (size_t)rows * cols; i++) {
		r = (int)(i / cols);
		c = (int)(i % cols);
		mem = panel_log(&pl->p[i], &lp);
		svg_panel(f, &lp, i, c * pw, top + r * ph, pw, ph);
		free(mem);
	}
	fputs("</svg>\n", f);
	if (fflush(f) || ferror(f))
		return -1;
	return 0;
}

/* ---- terminal ---- */

/* One character cell: a code point (UTF-8) and a colour (0: default, else 1 + index). */
struct cell {
	char s[8];
	unsigned char color;
	unsigned char dots;	/* braille dots set here */
};

struct canvas {
	struct cell *c;
	int w, h;
	int ascii, color;
	int marks;	/* braille without colour: series told apart by glyphs */
};

static struct cell *
cell_at(struct canvas *cv, int x, int y)
{
	if (x < 0 || y < 0 || x >= cv->w || y >= cv->h)
		return NULL;
	return &cv->c[(size_t)y * cv->w + x];
}

static void
put_char(struct canvas *cv, int x, int y, const char *s, int color)
{
	struct cell *c = cell_at(cv, x, y);

	if (!c)
		return;
	snprintf(c->s, sizeof(c->s), "%s", s);
	c->color = (unsigned char)color;
	c->dots = 0;
}

/* Write s from (x, y), at most max cells; controls and bad UTF-8 become '?'. Returns the cells used. */
static int
put_text(struct canvas *cv, int x, int y, const char *s, int max, int color)
{
	char buf[8];
	unsigned cp;
	int n = 0;

	if (!s)
		return 0;
	while (*s && n < max) {
		s += utf8_next(s, &cp);
		if (cp < 0x20 || cp == 0x7f || cp == 0xfffd || (cv->ascii && cp >= 0x80))
			cp = '?';
		utf8_put(cp, buf);
		if (n + 1 == max && *s)
			snprintf(buf, sizeof(buf), "%s", cv->ascii ? "~" : "\xe2\x80\xa6");
		put_char(cv, x + n, y, buf, color);
		n++;
	}
	return n;
}

/* A text centered in [x, x + w). */
static void
put_centered(struct canvas *cv, int x, int w, int y, const char *s)
{
	int l = utf8_len(s);

	put_text(cv, l < w ? x + (w - l) / 2 : x, y, s, w, 0);
}

/* The plot area of a panel, in cells, and its dot grid. */
struct term_box {
	int x, y, w, h;		/* cells */
	int dw, dh;		/* dots: 2x4 per cell in braille, 1 in ASCII */
	struct axis ax, ay;
};

/* Dot coordinates of a point; 0 when outside the grid or not finite. */
static int
term_dot(const struct term_box *b, double x, double y, int *dx, int *dy)
{
	double fx = frac(x, b->ax.lo, b->ax.hi) * (b->dw - 1);
	double fy = (1 - frac(y, b->ay.lo, b->ay.hi)) * (b->dh - 1);

	if (!(fx > -0.5 && fx < b->dw - 0.5 && fy > -0.5 && fy < b->dh - 0.5))
		return 0;
	*dx = (int)lround(fx);
	*dy = (int)lround(fy);
	return 1;
}

/* Set a dot of a series; faint (band edges) shows as '.' in ASCII. */
static void
set_dot(struct canvas *cv, const struct term_box *b, int dx, int dy, int series, int faint)
{
	static const unsigned char bits[2][4] = { { 0x01, 0x02, 0x04, 0x40 }, { 0x08, 0x10, 0x20, 0x80 } };
	struct cell *c;
	char g[2];

	if (dx < 0 || dy < 0 || dx >= b->dw || dy >= b->dh)
		return;
	if (cv->ascii) {
		g[0] = faint ? '.' : ascii_glyphs[series % NGLYPHS];
		g[1] = '\0';
		put_char(cv, b->x + dx, b->y + dy, g, 1 + series % NTERMCOLORS);
		return;
	}
	c = cell_at(cv, b->x + dx / 2, b->y + dy / 4);
	if (!c)
		return;
	c->dots |= bits[dx % 2][dy % 4];
	c->color = (unsigned char)(1 + series % NTERMCOLORS);
}

/* Dots from (x0, y0) to (x1, y1), every step-th one (2: dotted). */
static void
dot_line(struct canvas *cv, const struct term_box *b, int x0, int y0, int x1, int y1, int series, int step)
{
	int dx = abs(x1 - x0), dy = abs(y1 - y0), n = dx > dy ? dx : dy, i;

	for (i = 0; i <= n; i++) {
		if (i % step)
			continue;
		if (n == 0)
			set_dot(cv, b, x0, y0, series, step > 1);
		else
			set_dot(cv, b, x0 + (int)lround((double)(x1 - x0) * i / n),
			    y0 + (int)lround((double)(y1 - y0) * i / n), series, step > 1);
	}
}

/* The cell of a dot gets the series' glyph (canvas marks). */
static void
set_mark(struct canvas *cv, const struct term_box *b, int dx, int dy, int series)
{
	char g[2] = { ascii_glyphs[series % NGLYPHS], '\0' };

	put_char(cv, b->x + dx / 2, b->y + dy / 4, g, 1 + series % NTERMCOLORS);
}

/*
 * The dots of one array of values against s->x: a line, or points. With
 * marks, points are glyphs and a line ends with its glyph.
 */
static void
term_values(struct canvas *cv, const struct term_box *b, const struct plot_series *s,
    const double *y, int series, int points, int step)
{
	int px = 0, py = 0, pen = 0, drawn = 0, dx, dy;
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!isfinite(s->x[i]) || !isfinite(y[i]) || !term_dot(b, s->x[i], y[i], &dx, &dy)) {
			pen = 0;
			continue;
		}
		if (pen && !points)
			dot_line(cv, b, px, py, dx, dy, series, step);
		else if (points && cv->marks)
			set_mark(cv, b, dx, dy, series);
		else
			set_dot(cv, b, dx, dy, series, step > 1);
		px = dx;
		py = dy;
		pen = drawn = 1;
	}
	if (drawn && !points && step == 1 && cv->marks)
		set_mark(cv, b, px, py, series);
}

static void
term_panel(struct canvas *cv, const struct plot_panel *p, int X, int Y, int W, int H)
{
	const char *vbar = cv->ascii ? "|" : "\xe2\x94\x82", *ytick = cv->ascii ? "+" : "\xe2\x94\xa4";
	const char *hbar = cv->ascii ? "-" : "\xe2\x94\x80", *xtick = cv->ascii ? "+" : "\xe2\x94\xac";
	const char *corner = cv->ascii ? "+" : "\xe2\x94\x94";
	struct term_box b;
	double dx0, dx1, dy0, dy1;
	int head = 0, foot, nl = (int)labelled(p), shown, avail, gutter, i, row, col, last, l, y;
	char buf[64], g[8];
	size_t k;

	panel_range(p, &dx0, &dx1, &dy0, &dy1);
	b.ax.log = p->xlog;
	b.ay.log = p->ylog;
	cv->marks = !cv->ascii && !cv->color && p->ns > 1;
	if (p->title && *p->title)
		put_centered(cv, X, W, Y + head++, p->title);
	if (p->ylabel && *p->ylabel)
		put_text(cv, X, Y + head++, p->ylabel, W, 0);
	foot = 2 + (p->xlabel && *p->xlabel ? 1 : 0);
	avail = H - head - foot;
	/* The legend takes at most a third of the lines, and its last says how many it left out. */
	shown = nl;
	if (shown > avail / 3)
		shown = avail / 3 > 1 ? avail / 3 : nl ? 1 : 0;
	b.h = avail - shown;
	if (b.h < 1)
		b.h = 1;
	b.y = Y + head;
	axis_fit(&b.ay, dy0, dy1, b.h / 2 + 1);
	gutter = ticks_width(&b.ay);
	if (gutter > W / 3)
		gutter = W / 3;
	b.x = X + gutter + 1;
	b.w = W - gutter - 2;
	if (b.w < 1)
		b.w = 1;
	axis_fit_x(&b.ax, dx0, dx1, b.w, 1, 6);
	b.dw = cv->ascii ? b.w : 2 * b.w;
	b.dh = cv->ascii ? b.h : 4 * b.h;

	/* Frame and y ticks. */
	for (row = 0; row < b.h; row++)
		put_char(cv, b.x - 1, b.y + row, vbar, 0);
	for (i = 0; i < b.ay.n; i++) {
		if (!term_dot(&b, b.ax.lo, tick_value(&b.ay, i), &col, &row))
			continue;
		row = cv->ascii ? row : row / 4;
		tick_label(&b.ay, i, buf, sizeof(buf));
		l = (int)strlen(buf);
		put_text(cv, b.x - 1 - (l < gutter ? l : gutter), b.y + row, buf, gutter, 0);
		put_char(cv, b.x - 1, b.y + row, ytick, 0);
	}
	y = b.y + b.h;
	put_char(cv, b.x - 1, y, corner, 0);
	for (col = 0; col < b.w; col++)
		put_char(cv, b.x + col, y, hbar, 0);
	/* x ticks, their labels centered under them unless they would overlap. */
	last = -1;
	for (i = 0; i < b.ax.n; i++) {
		if (!term_dot(&b, tick_value(&b.ax, i), b.ay.lo, &col, &row))
			continue;
		col = cv->ascii ? col : col / 2;
		put_char(cv, b.x + col, y, xtick, 0);
		tick_label(&b.ax, i, buf, sizeof(buf));
		l = (int)strlen(buf);
		col = b.x + col - l / 2;
		if (col + l > X + W)
			col = X + W - l;
		if (col <= last || col < X)
			continue;
		put_text(cv, col, y + 1, buf, l, 0);
		last = col + l;
	}
	y += 2;
	if (p->xlabel && *p->xlabel)
		put_centered(cv, b.x, b.w, y++, p->xlabel);

	/* Data: band edges dotted, then lines or points. */
	for (k = 0; k < p->ns; k++) {
		const struct plot_series *s = &p->s[k];

		if (!s->x || !s->y)
			continue;
		if (!p->scatter && s->lo)
			term_values(cv, &b, s, s->lo, (int)k, 0, 3);
		if (!p->scatter && s->hi)
			term_values(cv, &b, s, s->hi, (int)k, 0, 3);
	}
	for (k = 0; k < p->ns; k++)
		if (p->s[k].x && p->s[k].y)
			term_values(cv, &b, &p->s[k], p->s[k].y, (int)k, p->scatter, 1);

	/* Legend: a line per labelled series with its glyph in its colour. */
	for (k = 0, i = 0; k < p->ns && i < shown; k++) {
		if (!p->s[k].label || !*p->s[k].label)
			continue;
		if (i + 1 == shown && shown < nl) {
			snprintf(buf, sizeof(buf), "+%d more", nl - i);
			put_text(cv, b.x + 1, y + i, buf, W, 0);
			break;
		}
		if (cv->ascii || cv->marks)
			snprintf(g, sizeof(g), "%c", ascii_glyphs[k % NGLYPHS]);
		else
			snprintf(g, sizeof(g), "%s", "\xe2\xa3\xbf");
		put_char(cv, b.x + 1, y + i, g, 1 + (int)(k % NTERMCOLORS));
		put_text(cv, b.x + 3, y + i, p->s[k].label, X + W - b.x - 3, 0);
		i++;
	}
}

/* Write the canvas: trailing blanks cut, colours switched only when they change. */
static void
canvas_write(FILE *f, struct canvas *cv)
{
	struct cell *c;
	char buf[8];
	int x, y, end, cur;

	for (y = 0; y < cv->h; y++) {
		for (x = 0; x < cv->w; x++) {
			c = cell_at(cv, x, y);
			if (c->dots && !c->s[0]) {
				utf8_put(0x2800 + c->dots, buf);
				snprintf(c->s, sizeof(c->s), "%s", buf);
			}
		}
		for (end = cv->w; end > 0; end--) {
			c = cell_at(cv, end - 1, y);
			if (c->s[0] && strcmp(c->s, " ") != 0)
				break;
		}
		cur = 0;
		for (x = 0; x < end; x++) {
			c = cell_at(cv, x, y);
			if (cv->color && c->color != cur && c->s[0] && c->s[0] != ' ') {
				if (c->color)
					fprintf(f, "\033[%dm", term_colors[c->color - 1]);
				else
					fputs("\033[0m", f);
				cur = c->color;
			}
			fputs(c->s[0] ? c->s : " ", f);
		}
		if (cur)
			fputs("\033[0m", f);
		fputc('\n', f);
	}
}

int
plot_term(FILE *f, const struct plot *pl)
{
	struct canvas cv;
	int rows, cols, w, h, top, pw, ph, r, c;
	struct plot_panel lp;
	void *mem;
	size_t i;

	layout(pl, &rows, &cols);
	w = pl->width > 0 ? pl->width : 80;
	h = pl->height > 0 ? pl->height : 24;
	if (w > 4096)
		w = 4096;
	if (h > 4096)
		h = 4096;
	top = pl->title && *pl->title ? 1 : 0;
	pw = w / cols;
	ph = (h - top) / rows;
	if (pw < 16)
		pw = 16;
	if (ph < 6)
		ph = 6;
	cv.w = pw * cols > w ? pw * cols : w;
	cv.h = top + ph * rows > h ? top + ph * rows : h;
	cv.ascii = pl->ascii;
	cv.color = pl->color;
	cv.c = xcalloc((size_t)cv.w * cv.h, sizeof(*cv.c));
	if (top)
		put_centered(&cv, 0, cv.w, 0, pl->title);
	for (i = 0; i < pl->np && i < (size_t)rows * cols; i++) {
		r = (int)(i / cols);
		c = (int)(i % cols);
		mem = panel_log(&pl->p[i], &lp);
		term_panel(&cv, &lp, c * pw, top + r * ph, pw - (c + 1 < cols ? 2 : 0), ph);
		free(mem);
	}
	canvas_write(f, &cv);
	free(cv.c);
	if (fflush(f) || ferror(f))
		return -1;
	return 0;
}

/* ---- series arithmetic ---- */

void
plot_smooth(double *y, size_t n, double w)
{
	double last = 0, wk = 1;
	size_t i;

	if (!(w > 0 && w < 1))
		return;
	for (i = 0; i < n; i++) {
		if (!isfinite(y[i]))
			continue;
		last = last * w + (1 - w) * y[i];
		wk *= w;
		y[i] = last / (1 - wk);
	}
}

/* One finite point of an input series, for sorting by x. */
struct agg_point {
	double x, y;
	size_t series, i;
};

static int
agg_cmp(const void *a, const void *b)
{
	const struct agg_point *p = a, *q = b;

	if (p->x != q->x)
		return p->x < q->x ? -1 : 1;
	if (p->series != q->series)
		return p->series < q->series ? -1 : 1;
	return p->i < q->i ? -1 : p->i > q->i;
}

int
plot_aggregate(const struct plot_series *in, size_t n, enum plot_agg agg,
    enum plot_band band, struct plot_series *out)
{
	struct agg_point *pt;
	double *x, *y, *lo = NULL, *hi = NULL, *v, sum, mean, ss, sd, med, center;
	size_t np = 0, i, j, k, m, nv, nx = 0;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < n; k++)
		if (in[k].x && in[k].y)
			np += in[k].n;
	if (np == 0)
		return -1;
	pt = xmalloc(np * sizeof(*pt));
	np = 0;
	for (k = 0; k < n; k++) {
		if (!in[k].x || !in[k].y)
			continue;
		for (i = 0; i < in[k].n; i++)
			if (finite_point(&in[k], i))
				pt[np++] = (struct agg_point){ in[k].x[i], in[k].y[i], k, i };
	}
	if (np == 0) {
		free(pt);
		return -1;
	}
	qsort(pt, np, sizeof(*pt), agg_cmp);
	x = xmalloc(np * sizeof(*x));
	y = xmalloc(np * sizeof(*y));
	if (band != PLOT_BAND_NONE) {
		lo = xmalloc(np * sizeof(*lo));
		hi = xmalloc(np * sizeof(*hi));
	}
	v = xmalloc(np * sizeof(*v));
	for (i = 0; i < np; i = j) {
		/* The points at one x; a series with several there counts by its last. */
		nv = 0;
		for (j = i; j < np && pt[j].x == pt[i].x; j++)
			if (j + 1 == np || pt[j + 1].x != pt[j].x || pt[j + 1].series != pt[j].series)
				v[nv++] = pt[j].y;
		sum = 0;
		for (m = 0; m < nv; m++)
			sum += v[m];
		mean = sum / nv;
		ss = 0;
		for (m = 0; m < nv; m++)
			ss += (v[m] - mean) * (v[m] - mean);
		sd = nv > 1 ? sqrt(ss / (nv - 1)) : 0;
		/* sorts v, which the min-max band uses too */
		med = stats_median(v, nv);
		center = agg == PLOT_MEDIAN ? med : mean;
		x[nx] = pt[i].x;
		y[nx] = center;
		switch (band) {
		case PLOT_BAND_STD:
			lo[nx] = center - sd;
			hi[nx] = center + sd;
			break;
		case PLOT_BAND_SEM:
			lo[nx] = center - sd / sqrt((double)nv);
			hi[nx] = center + sd / sqrt((double)nv);
			break;
		case PLOT_BAND_MINMAX:
			lo[nx] = v[0];
			hi[nx] = v[nv - 1];
			break;
		case PLOT_BAND_NONE:
			break;
		}
		nx++;
	}
	free(v);
	free(pt);
	out->x = x;
	out->y = y;
	out->lo = lo;
	out->hi = hi;
	out->n = nx;
	return 0;
}

void
plot_series_free(struct plot_series *s)
{
	if (!s)
		return;
	free((void *)s->x);
	free((void *)s->y);
	free((void *)s->lo);
	free((void *)s->hi);
	s->x = s->y = s->lo = s->hi = NULL;
	s->n = 0;
}
