/* xtlog.c: see xtlog.h. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "xtlog.h"
#include "banned.h"

/* The descriptor: >= 0 open, -1 not looked at yet, -2 XT_LOG unset. */
static int log_fd = -1;

int
xtlog_open(void)
{
	int fd = __atomic_load_n(&log_fd, __ATOMIC_ACQUIRE), want = -1;
	const char *path;

	if (fd >= 0)
		return fd;
	if (fd == -2) {
		errno = ENOENT;
		return -1;
	}
	path = getenv("XT_LOG");
	if (!path || !*path) {
		__atomic_compare_exchange_n(&log_fd, &want, -2, 0, __ATOMIC_ACQ_REL,
		    __ATOMIC_ACQUIRE);
		errno = ENOENT;
		return -1;
	}
	/* a failed open is not remembered: it may be passing (EINTR, EMFILE) */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0)
		return -1;
	if (!__atomic_compare_exchange_n(&log_fd, &want, fd, 0, __ATOMIC_ACQ_REL,
	    __ATOMIC_ACQUIRE)) {
		/* another thread was first: use its descriptor */
		close(fd);
		if (want < 0) {
			errno = ENOENT;
			return -1;
		}
		return want;
	}
	return fd;
}

void
xtlog_close(void)
{
	int fd = __atomic_exchange_n(&log_fd, -1, __ATOMIC_ACQ_REL);

	if (fd >= 0)
		close(fd);
}

int
xtlog_write(const char *buf, size_t len)
{
	int fd = xtlog_open();

	if (fd < 0)
		return -1;
	while (len > 0) {
		/*
		 * A regular file takes the whole write at once. Only a full
		 * disk or a signal cuts it short; then the rest follows, so
		 * that at least the line is not left open.
		 */
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A line being built: in the caller's stack buffer first, on the heap when
 * it grows past it, never past XTLOG_LINE_MAX. A failure (too long, out of
 * memory) is remembered in err and checked once at the end.
 */
struct line {
	char *buf;
	size_t len, cap;
	int heap, err;
};

static void
line_init(struct line *l, char *stack, size_t cap)
{
	l->buf = stack;
	l->len = 0;
	l->cap = cap;
	l->heap = 0;
	l->err = 0;
}

static void
line_release(struct line *l)
{
	if (l->heap)
		free(l->buf);
}

static int
line_grow(struct line *l, size_t n)
{
	size_t cap;
	char *p;

	if (l->err)
		return -1;
	if (l->len + n <= l->cap)
		return 0;
	if (l->len + n > XTLOG_LINE_MAX) {
		l->err = EMSGSIZE;
		return -1;
	}
	cap = l->cap * 2 > l->len + n ? l->cap * 2 : l->len + n;
	if (cap > XTLOG_LINE_MAX)
		cap = XTLOG_LINE_MAX;
	p = l->heap ? realloc(l->buf, cap) : malloc(cap);
	if (!p) {
		l->err = ENOMEM;
		return -1;
	}
	if (!l->heap)
		memcpy(p, l->buf, l->len);
	l->buf = p;
	l->cap = cap;
	l->heap = 1;
	return 0;
}

static void
put(struct line *l, const char *s, size_t n)
{
	if (line_grow(l, n) == 0) {
		memcpy(l->buf + l->len, s, n);
		l->len += n;
	}
}

#define PUTS(l, lit) put((l), (lit), sizeof(lit) - 1)

/* s as a JSON string, in quotes. */
static void
put_str(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	PUTS(l, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = { '\\', 0, '0', '0', 0, 0 };
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(l, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			esc[1] = 'u';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		}
		put(l, esc, n);
	}
	put(l, run, (size_t)(s - run));
	PUTS(l, "\"");
}

/* The decimal digits of u, with a '.' before the last point digits when point > 0. */
static void
put_digits(struct line *l, int neg, unsigned long long u, int point)
{
	char d[48], *p = d + sizeof(d);
	int i = 0;

	do {
		if (point > 0 && i == point)
			*--p = '.';
		*--p = (char)('0' + u % 10);
		u /= 10;
		i++;
	} while (u || (point > 0 && i <= point));
	if (neg)
		*--p = '-';
	put(l, p, (size_t)(d + sizeof(d) - p));
}

/*
 * v as the shortest JSON number that reads back as v. The fast path finds
 * the fewest decimals k such that v == m / 10^k for a whole m < 2^53: the
 * division is correctly rounded, like strtod, so "m with k decimals" reads
 * back as v. Other values (very large or small, 16-17 digits) go through
 * printf with increasing precision.
 */
static void
put_num(struct line *l, double v)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
		1e10, 1e11, 1e12, 1e13, 1e14, 1e15 };
	double a = fabs(v);
	char buf[40];
	int k, n;

	if (!isfinite(v)) {
		PUTS(l, "null");
		return;
	}
	if (a < 1e15) {
		for (k = 0; k < 16; k++) {
			double x = a * p10[k];
			double m;

			if (x >= 9007199254740992.0)
				break;
			m = nearbyint(x);
			if (m / p10[k] == a) {
				put_digits(l, v < 0 && m != 0, (unsigned long long)m, k);
				return;
			}
		}
	}
	for (k = 15; k <= 17; k++) {
		n = snprintf(buf, sizeof(buf), "%.*g", k, v);
		if (k == 17 || strtod(buf, NULL) == v)
			break;
	}
	put(l, buf, (size_t)n);
}

static void
put_long(struct line *l, long v)
{
	put_digits(l, v < 0, v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v, 0);
}

/* "time" (now, UTC, milliseconds) and "event": the head of every line. */
static void
put_head(struct line *l, const char *event, long step)
{
	static _Thread_local time_t cached_sec = -1;
	static _Thread_local char cached[24];
	struct timespec ts;
	char t[25];
	long ms;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != cached_sec) {
		struct tm tm;

		gmtime_r(&ts.tv_sec, &tm);
		strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
		cached_sec = ts.tv_sec;
	}
	ms = ts.tv_nsec / 1000000;
	memcpy(t, cached, 19);
	t[19] = '.';
	t[20] = (char)('0' + ms / 100);
	t[21] = (char)('0' + ms / 10 % 10);
	t[22] = (char)('0' + ms % 10);
	t[23] = 'Z';
	t[24] = '"';
	PUTS(l, "{\"time\":\"");
	put(l, t, 25);
	PUTS(l, ",\"event\":");
	put_str(l, event);
	if (step >= 0) {
		PUTS(l, ",\"step\":");
		put_long(l, step);
	}
}

/* End the line and write it. */
static int
finish(struct line *l)
{
	int rc;

	PUTS(l, "\n");
	if (l->err) {
		errno = l->err;
		rc = -1;
	} else {
		rc = xtlog_write(l->buf, l->len);
	}
	line_release(l);
	return rc;
}

static int
einval(void)
{
	errno = EINVAL;
	return -1;
}

/*
 * Not a name in the sense of name_check() (name.h): 1-128 letters, digits,
 * "._-", not starting with '.' or '-'. Repeated here so that a program
 * linking this file needs nothing of the store.
 */
static int
bad_name(const char *s)
{
	size_t n;

	if (!s || !*s || *s == '.' || *s == '-')
		return 1;
	for (n = 0; s[n]; n++)
		if (n >= 128 || !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '.' || s[n] == '_' || s[n] == '-'))
			return 1;
	return 0;
}

int
xtlog_metrics(long step, size_t n, const char *const *names, const double *values)
{
	char stack[4096];
	struct line l;
	size_t i;

	if (n == 0 || !names || !values)
		return einval();
	for (i = 0; i < n; i++)
		if (!names[i] || !*names[i])
			return einval();
	/* fail early without a file, as the other calls do */
	if (xtlog_open() < 0)
		return -1;
	line_init(&l, stack, sizeof(stack));
	put_head(&l, "metrics", step);
	PUTS(&l, ",\"data\":{");
	for (i = 0; i < n; i++) {
		if (i)
			PUTS(&l, ",");
		put_str(&l, names[i]);
		PUTS(&l, ":");
		put_num(&l, values[i]);
	}
	PUTS(&l, "}}");
	return finish(&l);
}

int
xtlog_metric(const char *name, double value, long step)
{
	return xtlog_metrics(step, 1, &name, &value);
}

enum { V_NUM, V_STR, V_TRUE };

/* {"event":event,"data":{name:value}}, the value a number, a string or true. */
static int
one(const char *event, const char *name, int kind, const char *str, double num)
{
	char stack[4096];
	struct line l;

	if (!name || !*name || (kind == V_STR && !str))
		return einval();
	if (xtlog_open() < 0)
		return -1;
	line_init(&l, stack, sizeof(stack));
	put_head(&l, event, -1);
	PUTS(&l, ",\"data\":{");
	put_str(&l, name);
	PUTS(&l, ":");
	if (kind == V_NUM)
		put_num(&l, num);
	else if (kind == V_STR)
		put_str(&l, str);
	else
		PUTS(&l, "true");
	PUTS(&l, "}}");
	return finish(&l);
}

int
xtlog_hparam_num(const char *name, double value)
{
	return one("hparams", name, V_NUM, NULL, value);
}

int
xtlog_hparam_str(const char *name, const char *value)
{
	return one("hparams", name, V_STR, value, 0);
}

int
xtlog_tag(const char *name, const char *value)
{
	if (bad_name(name))
		return einval();
	return one("tags", name, value ? V_STR : V_TRUE, value, 0);
}

int
xtlog_event(const char *event, const char *json_data)
{
	char stack[4096], *text = NULL;
	struct line l;
	cJSON *data;

	if (bad_name(event))
		return einval();
	if (json_data) {
		data = cJSON_Parse(json_data);
		if (!cJSON_IsObject(data)) {
			cJSON_Delete(data);
			return einval();
		}
		text = cJSON_PrintUnformatted(data);
		cJSON_Delete(data);
		if (!text) {
			errno = ENOMEM;
			return -1;
		}
	}
	if (xtlog_open() < 0) {
		free(text);
		return -1;
	}
	line_init(&l, stack, sizeof(stack));
	put_head(&l, event, -1);
	if (text) {
		PUTS(&l, ",\"data\":");
		put(&l, text, strlen(text));
		free(text);
	}
	PUTS(&l, "}");
	return finish(&l);
}
