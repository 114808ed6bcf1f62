/*
 * Unit tests of charts: smoothing, aggregation, ticks, SVG parsed back by
 * an XML parser, terminal output against tests/data/plot-term-*.txt, and
 * degenerate inputs. PLOT_GOLDEN_UPDATE=1 rewrites the expected files.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "plot.h"
#include "util.h"

static int
near(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (1 + fabs(b));
}

/* Render pl as SVG or text into a fresh string. Caller frees. */
static char *
render(const struct plot *pl, int svg, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	*rc = svg ? plot_svg(f, pl) : plot_term(f, pl);
	fclose(f);
	return buf;
}

static int
count(const char *s, const char *what)
{
	int n = 0;

	while ((s = strstr(s, what))) {
		n++;
		s += strlen(what);
	}
	return n;
}

/*
 * Parse svg with Python's XML parser and describe it: per panel, the
 * number of line paths, band polygons and circles, as "L/B/C" joined by
 * spaces; "bad" when it does not parse. Caller frees.
 */
static char *
svg_shape(const char *svg)
{
	static const char script[] =
	    "import sys, xml.etree.ElementTree as E\n"
	    "ns = '{http://www.w3.org/2000/svg}'\n"
	    "try:\n"
	    "    r = E.parse(sys.argv[1]).getroot()\n"
	    "except E.ParseError:\n"
	    "    print('bad'); sys.exit(0)\n"
	    "out = []\n"
	    "for g in r.iter(ns + 'g'):\n"
	    "    if g.get('class') != 'panel': continue\n"
	    "    d = [e for e in g.iter() if e.tag == ns + 'g' and e.get('class') == 'data'][0]\n"
	    "    out.append('%d/%d/%d' % (len([e for e in d.iter(ns + 'path') if e.get('class') == 'line']),\n"
	    "        len(list(d.iter(ns + 'polygon'))), len(list(d.iter(ns + 'circle')))))\n"
	    "print(' '.join(out))\n";
	char path[] = "/tmp/u-plot.XXXXXX", *cmd, line[4096];
	FILE *f, *p;
	int fd;

	fd = mkstemp(path);
	if (fd < 0 || !(f = fdopen(fd, "w")))
		return xstrdup("no temp file");
	fputs(svg, f);
	fclose(f);
	cmd = xasprintf("python3 -c \"$(cat <<'EOF'\n%sEOF\n)\" %s", script, path);
	p = popen(cmd, "r");
	free(cmd);
	line[0] = '\0';
	if (p) {
		if (!fgets(line, sizeof(line), p))
			line[0] = '\0';
		pclose(p);
	}
	unlink(path);
	line[strcspn(line, "\n")] = '\0';
	return xstrdup(line);
}

/* svg_shape of pl's SVG; NULL when it was not written. Caller frees. */
static char *
render_shape(const struct plot *pl, int *rc)
{
	char *svg = render(pl, 1, rc), *shape = svg ? svg_shape(svg) : NULL;

	free(svg);
	return shape;
}

static void
test_smooth(void)
{
	double y[] = { 1, 2, 3 }, g[] = { 1, NAN, 3, INFINITY, 5 }, c[] = { 5, 5, 5, 5 };
	double z[] = { 1, 2 }, one[] = { 7 };

	plot_smooth(y, 3, 0.5);
	/* last: 0.5, 1.25, 2.125; debiased by 1 - 0.5^k: 0.5, 0.75, 0.875 */
	CHECK(near(y[0], 1));
	CHECK(near(y[1], 1.25 / 0.75));
	CHECK(near(y[2], 2.125 / 0.875));

	plot_smooth(g, 5, 0.6);
	/* k counts finite points: last 0.4, 0.4 * 0.6 + 0.4 * 3 = 1.44, 1.44 * 0.6 + 0.4 * 5 = 2.864 */
	CHECK(near(g[0], 1));
	CHECK(isnan(g[1]));
	CHECK(near(g[2], 1.44 / 0.64));
	CHECK(isinf(g[3]) && g[3] > 0);
	CHECK(near(g[4], 2.864 / (1 - 0.216)));

	plot_smooth(c, 4, 0.99);
	CHECK(near(c[0], 5) && near(c[1], 5) && near(c[2], 5) && near(c[3], 5));

	plot_smooth(z, 2, 0);
	CHECK(z[0] == 1 && z[1] == 2);
	plot_smooth(z, 2, 1);
	CHECK(z[0] == 1 && z[1] == 2);
	plot_smooth(z, 2, -0.5);
	plot_smooth(z, 2, NAN);
	CHECK(z[0] == 1 && z[1] == 2);
	plot_smooth(one, 1, 0.9);
	CHECK(near(one[0], 7));
	plot_smooth(NULL, 0, 0.5);
}

static void
test_aggregate(void)
{
	double x1[] = { 0, 1, 2 }, y1[] = { 1, 2, 3 };
	double x2[] = { 1, 2, 3 }, y2[] = { 3, 4, 5 };
	double x3[] = { 1, 1, 2, NAN, 5 }, y3[] = { 100, 10, NAN, 7, INFINITY };
	struct plot_series in[3] = {
		{ "a", x1, y1, NULL, NULL, 3 },
		{ "b", x2, y2, NULL, NULL, 3 },
		{ "c", x3, y3, NULL, NULL, 5 },
	};
	struct plot_series out;
	double s = sqrt(0.5);	/* sample std of {2, 3} */

	CHECK(plot_aggregate(in, 2, PLOT_MEAN, PLOT_BAND_STD, &out) == 0);
	CHECK(out.n == 4);
	CHECK(out.n == 4 && out.x[0] == 0 && out.x[1] == 1 && out.x[2] == 2 && out.x[3] == 3);
	CHECK(out.n == 4 && near(out.y[0], 1) && near(out.y[1], 2.5) && near(out.y[2], 3.5) && near(out.y[3], 5));
	CHECK(out.lo && out.hi && near(out.lo[1], 2.5 - s) && near(out.hi[1], 2.5 + s));
	CHECK(out.lo && near(out.lo[0], 1) && near(out.hi[0], 1));
	CHECK(out.label == NULL);
	plot_series_free(&out);
	CHECK(out.x == NULL && out.y == NULL && out.lo == NULL && out.n == 0);

	CHECK(plot_aggregate(in, 2, PLOT_MEAN, PLOT_BAND_SEM, &out) == 0);
	CHECK(out.n == 4 && near(out.lo[2], 3.5 - s / sqrt(2)) && near(out.hi[2], 3.5 + s / sqrt(2)));
	plot_series_free(&out);

	CHECK(plot_aggregate(in, 2, PLOT_MEAN, PLOT_BAND_MINMAX, &out) == 0);
	CHECK(out.n == 4 && out.lo[1] == 2 && out.hi[1] == 3 && out.lo[3] == 5 && out.hi[3] == 5);
	plot_series_free(&out);

	CHECK(plot_aggregate(in, 2, PLOT_MEAN, PLOT_BAND_NONE, &out) == 0);
	CHECK(out.lo == NULL && out.hi == NULL && out.n == 4);
	plot_series_free(&out);

	/*
	 * Three series, uneven x; series c has two points at x = 1 (the last
	 * counts), a NaN y at 2, a NaN x and an infinite y (both skipped).
	 * x = 1: {2, 3, 10} median 3; x = 2: {3, 4} median 3.5.
	 */
	CHECK(plot_aggregate(in, 3, PLOT_MEDIAN, PLOT_BAND_MINMAX, &out) == 0);
	CHECK(out.n == 4);
	CHECK(out.n == 4 && out.y[0] == 1 && out.y[1] == 3 && out.y[2] == 3.5 && out.y[3] == 5);
	CHECK(out.n == 4 && out.lo[1] == 2 && out.hi[1] == 10);
	plot_series_free(&out);
	CHECK(plot_aggregate(in, 3, PLOT_MEAN, PLOT_BAND_NONE, &out) == 0);
	CHECK(out.n == 4 && near(out.y[1], 5));
	plot_series_free(&out);

	/* The band centres on the median when the median is drawn. */
	CHECK(plot_aggregate(in, 3, PLOT_MEDIAN, PLOT_BAND_STD, &out) == 0);
	CHECK(out.n == 4 && near(out.hi[1] - out.y[1], out.y[1] - out.lo[1]) && out.y[1] == 3);
	plot_series_free(&out);

	/* Nothing to aggregate. */
	CHECK(plot_aggregate(in, 0, PLOT_MEAN, PLOT_BAND_STD, &out) == -1);
	CHECK(out.x == NULL && out.n == 0);
	in[0].n = 0;
	in[1].x = NULL;
	CHECK(plot_aggregate(in, 2, PLOT_MEAN, PLOT_BAND_STD, &out) == -1);
	in[2].x = x3 + 3;	/* only the NaN x and the infinite y */
	in[2].y = y3 + 3;
	in[2].n = 2;
	CHECK(plot_aggregate(in, 3, PLOT_MEAN, PLOT_BAND_STD, &out) == -1);
	plot_series_free(&out);
	plot_series_free(NULL);
}

static void
test_ticks(void)
{
	double t[64];
	int n;

	n = plot_ticks(0, 1, 6, t, 64);
	CHECK(n == 6 && t[0] == 0 && near(t[1], 0.2) && near(t[5], 1));
	n = plot_ticks(0.013, 0.97, 6, t, 64);
	CHECK(n == 6 && t[0] == 0 && near(t[5], 1));
	n = plot_ticks(-0.014, 1.05, 8, t, 64);
	CHECK(n == 8 && near(t[0], -0.2) && near(t[7], 1.2));
	n = plot_ticks(-0.014, 1.05, 6, t, 64);
	CHECK(n == 5 && near(t[0], -0.5) && near(t[4], 1.5));
	n = plot_ticks(3, 997, 6, t, 64);
	CHECK(n == 6 && t[0] == 0 && t[5] == 1000);
	n = plot_ticks(3, 997, 5, t, 64);
	CHECK(n == 3 && t[0] == 0 && t[2] == 1000);
	n = plot_ticks(120, 180, 5, t, 64);
	CHECK(n == 4 && t[0] == 120 && t[3] == 180);
	n = plot_ticks(1e6, 5e6, 6, t, 64);
	CHECK(n == 5 && t[0] == 1e6 && t[4] == 5e6);
	n = plot_ticks(1e-7, 3e-7, 3, t, 64);
	CHECK(n == 3 && near(t[2], 3e-7));
	/* Every tick step is 1, 2 or 5 times a power of ten. */
	n = plot_ticks(-37.3, 81.9, 7, t, 64);
	CHECK(n >= 2 && n <= 7);
	if (n >= 2) {
		double st = t[1] - t[0], m = st / pow(10, floor(log10(st) + 1e-9));

		CHECK(near(m, 1) || near(m, 2) || near(m, 5));
		CHECK(t[0] <= -37.3 && t[n - 1] >= 81.9);
	}
	/* One value, no value, limits of double. */
	n = plot_ticks(5, 5, 5, t, 64);
	CHECK(n >= 2 && t[0] < 5 && t[n - 1] > 5);
	n = plot_ticks(0, 0, 5, t, 64);
	CHECK(n >= 2 && t[0] < 0 && t[n - 1] > 0);
	n = plot_ticks(INFINITY, -INFINITY, 5, t, 64);
	CHECK(n >= 2 && t[0] == 0 && t[n - 1] == 1);
	n = plot_ticks(-DBL_MAX, DBL_MAX, 5, t, 64);
	CHECK(n >= 2 && isfinite(t[0]) && isfinite(t[n - 1]) && t[0] < 0 && t[n - 1] > 0);
	n = plot_ticks(DBL_MAX, DBL_MAX, 5, t, 64);
	CHECK(n >= 2 && isfinite(t[n - 1]));
	n = plot_ticks(5e-324, 5e-324, 5, t, 64);
	CHECK(n >= 2 && t[0] < t[n - 1]);
	n = plot_ticks(0, 1, 1000, t, 4);
	CHECK(n > 4);		/* only 4 written */
}

static double gx[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
static double ga[8] = { 0.9, 0.7, 0.55, 0.45, 0.38, 0.34, 0.31, 0.3 };
static double gb[8] = { 0.1, 0.3, 0.5, 0.62, 0.7, 0.75, NAN, 0.8 };
static double glo[8] = { 0.05, 0.2, 0.4, 0.55, 0.6, 0.7, 0.72, 0.75 };
static double ghi[8] = { 0.15, 0.4, 0.6, 0.7, 0.8, 0.8, 0.82, 0.85 };

static void
test_svg(void)
{
	struct plot_series s[] = {
		{ "run1 & <lr>=\"0.1\" 'x'", gx, ga, NULL, NULL, 8 },
		{ "run2 \xce\xbb=0.01", gx, gb, glo, ghi, 8 },
		{ "bad \xff\xc3 utf8 \x01", gx, ga, NULL, NULL, 1 },
	};
	struct plot_panel p[] = {
		{ "loss <train>", "step", "loss & more", s, 3, 0, 0, 0 },
		{ "acc vs lr", "lr", "acc", s, 2, 1, 0, 0 },
	};
	struct plot pl = { "sweep \"A&B\"", p, 2, 0, 0, 0, 0, 0, 0 };
	char *svg, *shape, *d;
	FILE *full;
	int rc = 0;

	svg = render(&pl, 1, &rc);
	CHECK(rc == 0 && svg);
	if (!svg)
		return;
	shape = svg_shape(svg);
	/* Panel 1: 3 line paths and the band of run2; panel 2: 8 + 7 circles (the NaN skipped). */
	CHECK(strcmp(shape, "3/1/0 0/0/15") == 0);
	if (strcmp(shape, "3/1/0 0/0/15") != 0)
		printf("# shape: %s\n", shape);
	free(shape);
	CHECK(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1280\" height=\"436\"", 98) == 0);
	CHECK(strstr(svg, "run1 &amp; &lt;lr&gt;=&quot;0.1&quot; &apos;x&apos;"));
	CHECK(strstr(svg, "run2 \xce\xbb=0.01"));
	CHECK(strstr(svg, "bad \xef\xbf\xbd\xef\xbf\xbd utf8  "));
	CHECK(strstr(svg, "sweep &quot;A&amp;B&quot;"));
	CHECK(strstr(svg, ">loss &amp; more</text>"));
	CHECK(!strstr(svg, "<lr>") && !strstr(svg, "<train>"));
	/* Distinct colours, the NaN breaks run2's line into two pieces, a lone point is a ring. */
	CHECK(strstr(svg, "stroke=\"#4e79a7\"") && strstr(svg, "stroke=\"#f28e2b\"") && strstr(svg, "stroke=\"#e15759\""));
	d = strstr(svg, "stroke=\"#f28e2b\" stroke-width=\"1.5\"");
	CHECK(d && (d = strstr(d, "d=\"")) && count(d, " M") >= 1 && strchr(d, '"') && strchr(d + 3, '"') &&
	    count(d, " M") - count(strchr(d + 3, '"'), " M") == 1);
	d = strstr(svg, "stroke=\"#e15759\" stroke-width=\"1.5\"");
	CHECK(d && strstr(d, " a2.5 2.5 0 1 0 -5 0\">"));
	/* Ticks: x 0..7 by 1, y 0..1 by 0.2 */
	CHECK(strstr(svg, ">0.2</text>") && strstr(svg, ">0</text>") && !strstr(svg, ">-0</text>"));
	CHECK(!strstr(svg, "nan") && !strstr(svg, "inf"));
	free(svg);

	/* A write error is reported. */
	full = fopen("/dev/full", "w");
	CHECK(full && plot_svg(full, &pl) == -1);
	if (full)
		fclose(full);
	full = fopen("/dev/full", "w");
	CHECK(full && plot_term(full, &pl) == -1);
	if (full)
		fclose(full);
}

/* A long series is drawn through each pixel column's extremes, breaks kept. */
static void
test_svg_long(void)
{
	size_t n = 200000, i;
	double *x = xmalloc(n * sizeof(*x)), *y = xmalloc(n * sizeof(*y));
	struct plot_series s = { "long", x, y, NULL, NULL, n };
	struct plot_panel p = { NULL, NULL, NULL, &s, 1, 0, 0, 0 };
	struct plot pl = { NULL, &p, 1, 0, 0, 0, 0, 0, 0 };
	char *svg, *shape, *d;
	int rc = -1;

	for (i = 0; i < n; i++) {
		x[i] = (double)i;
		y[i] = i % 2 ? 1 : 0;
	}
	y[n / 2] = NAN;
	svg = render(&pl, 1, &rc);
	CHECK(rc == 0 && svg && strlen(svg) < 100000);
	shape = svg ? svg_shape(svg) : NULL;
	CHECK(shape && strcmp(shape, "1/0/0") == 0);
	d = svg ? strstr(svg, " d=\"M") : NULL;
	CHECK(d && count(d, " M") == 1 && count(d, " L") > 500 && count(d, " L") < 4 * 640);
	/* Both extremes are drawn: y 0 and y 1 at the bottom (400 - 26) and top (12) of the plot. */
	CHECK(d && strstr(d, " 374.0") && strstr(d, " 12.0"));
	free(shape);
	free(svg);
	free(x);
	free(y);
}

/* Compare text with tests/data/NAME, or write it there when asked. */
static int
golden(const char *name, const char *text)
{
	char *path = xasprintf("tests/data/%s", name);
	struct sbuf sb;
	FILE *f;
	int ok;

	if (getenv("PLOT_GOLDEN_UPDATE")) {
		f = fopen(path, "w");
		ok = f && fputs(text, f) >= 0;
		if (f && fclose(f))
			ok = 0;
		free(path);
		return ok;
	}
	sbuf_init(&sb, 1 << 20);
	ok = file_read(path, &sb) == 0 && strcmp(sb.buf, text) == 0;
	if (!ok)
		printf("# %s differs; got:\n%s", path, text);
	sbuf_release(&sb);
	free(path);
	return ok;
}

static void
test_term(void)
{
	struct plot_series s[] = {
		{ "train", gx, ga, NULL, NULL, 8 },
		{ "valid", gx, gb, glo, ghi, 8 },
	};
	struct plot_panel p = { "loss", "step", NULL, s, 2, 0, 0, 0 };
	struct plot pl = { NULL, &p, 1, 0, 0, 40, 14, 0, 0 };
	char *out;
	int rc = -1;

	out = render(&pl, 0, &rc);
	CHECK(rc == 0 && out && golden("plot-term-braille.txt", out));
	free(out);
	pl.ascii = 1;
	out = render(&pl, 0, &rc);
	CHECK(rc == 0 && out && golden("plot-term-ascii.txt", out));
	free(out);

	/* Colour: one code per series, reset at the end of each coloured line. */
	pl.ascii = 0;
	pl.color = 1;
	out = render(&pl, 0, &rc);
	CHECK(rc == 0 && out && strstr(out, "\033[34m") && strstr(out, "\033[33m"));
	CHECK(rc == 0 && out && golden("plot-term-color.txt", out));
	CHECK(out && count(out, "\033[0m\n") >= 1 && count(out, "\033[") >= 4);
	free(out);

	/* Defaults: 80 x 24; two panels side by side. */
	pl.color = 0;
	pl.width = pl.height = 0;
	out = render(&pl, 0, &rc);
	CHECK(rc == 0 && out && count(out, "\n") == 24);
	free(out);
	{
		struct plot_panel two[2] = { p, p };
		struct plot pl2 = { "two", two, 2, 1, 2, 100, 20, 1, 0 };

		out = render(&pl2, 0, &rc);
		CHECK(rc == 0 && out && count(out, "\n") == 20 && count(out, "train") == 2);
		CHECK(out && !strstr(out, "\xe2"));	/* ASCII only */
		free(out);
	}
}

/* Degenerate inputs: no crash, a document that parses, text of the asked size. */
static void
test_degenerate(void)
{
	static double one_x[] = { 3 }, one_y[] = { 2 };
	static double eq_y[] = { 4, 4, 4, 4, 4, 4, 4, 4 };
	static double nan_y[] = { NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN };
	static double inf_y[] = { INFINITY, 1, -INFINITY, 2, NAN, 3, INFINITY, 4 };
	static double big_y[] = { -DBL_MAX, DBL_MAX, 0, 1, 2, 3, 4, 5 };
	static double tiny_y[] = { 5e-324, 1e-323, 0, 5e-324, 0, 0, 0, 0 };
	static double one_lo[] = { NAN }, one_hi[] = { 3 };
	struct plot_series s[] = {
		{ NULL, gx, ga, NULL, NULL, 0 },
		{ "one", one_x, one_y, one_lo, one_hi, 1 },
		{ "equal", gx, eq_y, NULL, NULL, 8 },
		{ "NaN", gx, nan_y, nan_y, nan_y, 8 },
		{ "Infinite", gx, inf_y, NULL, NULL, 8 },
		{ "big", gx, big_y, NULL, NULL, 8 },
		{ "tiny", gx, tiny_y, NULL, NULL, 8 },
		{ "", NULL, NULL, NULL, NULL, 5 },
	};
	struct plot_panel p[] = {
		{ NULL, NULL, NULL, s, 1, 0, 0, 0 },		/* 0 points */
		{ "", "", "", s + 1, 1, 0, 0, 0 },		/* 1 point */
		{ "eq", "x", "y", s + 2, 1, 0, 0, 0 },		/* equal values */
		{ "NaN", NULL, NULL, s + 3, 1, 0, 0, 0 },	/* all NaN */
		{ "Inf", NULL, NULL, s + 4, 1, 1, 0, 0 },	/* infinities */
		{ "big", NULL, NULL, s + 5, 1, 0, 0, 0 },	/* +-DBL_MAX */
		{ "tiny", NULL, NULL, s + 6, 1, 0, 0, 0 },	/* subnormals */
		{ "none", NULL, NULL, s + 7, 1, 0, 0, 0 },	/* no arrays */
		{ "empty", NULL, NULL, NULL, 0, 0, 0, 0 },	/* no series */
		{ "all", NULL, NULL, s, 8, 0, 0, 0 },
	};
	struct plot pl = { NULL, p, 10, 0, 0, 0, 0, 0, 0 };
	static const int sizes[][2] = { { 0, 0 }, { 1, 1 }, { 20, 8 }, { 100000, 5 }, { -5, -5 } };
	char *out, *shape;
	size_t i, k;
	int rc, ok;

	out = render(&pl, 1, &rc);
	CHECK(rc == 0 && out);
	shape = out ? svg_shape(out) : NULL;
	CHECK(shape && strcmp(shape, "1/0/0 1/0/0 1/0/0 1/0/0 0/0/4 1/0/0 1/0/0 1/0/0 0/0/0 8/0/0") == 0);
	if (shape && strcmp(shape, "1/0/0 1/0/0 1/0/0 1/0/0 0/0/4 1/0/0 1/0/0 1/0/0 0/0/0 8/0/0") != 0)
		printf("# shape: %s\n", shape);
	CHECK(out && !strstr(out, "nan") && !strstr(out, "inf"));
	free(shape);
	free(out);

	/* Each panel alone, at several sizes, both renderers and text modes. */
	ok = 1;
	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++) {
		for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
			struct plot one = { "t", &p[i], 1, 0, 0, sizes[k][0], sizes[k][1], (int)(k % 2), (int)(i % 2) };

			out = render(&one, 0, &rc);
			if (rc != 0 || !out || (sizes[k][1] >= 6 && count(out, "\n") != sizes[k][1]))
				ok = 0;
			free(out);
			if (sizes[k][0] <= 20) {
				out = render(&one, 1, &rc);
				if (rc != 0 || !out || strstr(out, "nan") || strstr(out, "inf"))
					ok = 0;
				free(out);
			}
		}
	}
	CHECK(ok);

	/* No panel at all, and a layout too small for its panels. */
	pl.np = 0;
	shape = render_shape(&pl, &rc);
	CHECK(rc == 0 && shape && strcmp(shape, "") == 0);
	free(shape);
	out = render(&pl, 0, &rc);
	CHECK(rc == 0 && out && count(out, "\n") == 24);
	free(out);
	pl.np = 10;
	pl.rows = 2;
	pl.cols = 2;
	shape = render_shape(&pl, &rc);
	CHECK(rc == 0 && shape && count(shape, "/") == 20);
	free(shape);
}

/*
 * Series styles: 24 series of one panel, each its own stroke (colour and
 * dash) in SVG, the first 20 solid and of 20 colours, 1 and 11 apart (a
 * run7.1 and run7.11); 12 series on a colour terminal, 12 colours.
 */
static void
test_styles(void)
{
	static double x[] = { 0, 1 }, y[24][2];
	struct plot_series s[24];
	struct plot_panel p = { "many", "step", "acc", s, 24, 0, 0, 0 };
	struct plot pl = { NULL, &p, 1, 0, 0, 0, 0, 0, 0 };
	char *svg, *q, *strokes[24], *term;
	int rc = -1, n = 0, i, j, distinct = 1, solid = 0, codes = 0;

	for (i = 0; i < 24; i++) {
		y[i][0] = y[i][1] = i;
		s[i] = (struct plot_series){ NULL, x, y[i], NULL, NULL, 2 };
	}
	svg = render(&pl, 1, &rc);
	CHECK(svg && rc == 0);
	for (q = svg; q && (q = strstr(q, "<path class=\"line\"")) && n < 24; q++) {
		char *st = strstr(q, "stroke=\""), *end = strstr(q, " stroke-linejoin");

		strokes[n++] = st && end > st ? xstrndup(st, (size_t)(end - st)) : xstrdup("");
	}
	CHECK(n == 24);
	for (i = 0; i < n; i++) {
		solid += !strstr(strokes[i], "dasharray");
		for (j = 0; j < i; j++)
			distinct &= strcmp(strokes[i], strokes[j]) != 0;
	}
	CHECK(distinct);
	CHECK(solid == 20);
	CHECK(n == 24 && strncmp(strokes[1], strokes[11], 17) != 0);	/* their colours */
	for (i = 0; i < n; i++)
		free(strokes[i]);
	free(svg);

	p.ns = 12;
	pl.color = 1;
	pl.width = 60;
	pl.height = 20;
	term = render(&pl, 0, &rc);
	CHECK(term && rc == 0);
	for (i = 30; i < 100; i++) {
		char code[16];

		snprintf(code, sizeof(code), "\033[%dm", i);
		codes += term && strstr(term, code) != NULL;
	}
	CHECK(codes == 12);
	free(term);
}

/*
 * Log axes: ticks at 1, 2 and 5 times the powers of ten over the data's
 * range, values <= 0 left out; the terminal ticks the same.
 */
static void
test_log(void)
{
	static double x[] = { 0.001, 0.01, 0.1, 0, -1 }, y[] = { 1, 10, 100, 5, 5 };
	struct plot_series s = { "a", x, y, NULL, NULL, 5 };
	struct plot_panel p = { NULL, "lr", "loss", &s, 1, 1, 1, 1 };
	struct plot pl = { NULL, &p, 1, 0, 0, 0, 0, 0, 0 };
	char *svg, *term;
	int rc = -1;

	svg = render(&pl, 1, &rc);
	CHECK(svg && rc == 0);
	CHECK(svg && strstr(svg, ">0.001</text>") && strstr(svg, ">0.01</text>") &&
	    strstr(svg, ">0.1</text>") && strstr(svg, ">0.002</text>") && !strstr(svg, ">0.04</text>"));
	CHECK(svg && strstr(svg, ">1</text>") && strstr(svg, ">10</text>") && strstr(svg, ">100</text>"));
	CHECK(svg && count(svg, "<circle ") == 3 + 1);	/* 0 and -1 are not drawn; the legend has one */
	free(svg);
	pl.ascii = 1;
	pl.width = 40;
	pl.height = 12;
	term = render(&pl, 0, &rc);
	CHECK(term && rc == 0 && strstr(term, "100+") && strstr(term, "0.001"));
	free(term);
}

int
main(void)
{
	test_smooth();
	test_aggregate();
	test_ticks();
	test_svg();
	test_svg_long();
	test_term();
	test_degenerate();
	test_styles();
	test_log();
	return check_done();
}
