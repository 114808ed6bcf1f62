/* util.c: see util.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "util.h"
#include "banned.h"

static char progname[64] = "xt";

void
util_setprog(const char *argv0)
{
	const char *p = strrchr(argv0, '/');

	snprintf(progname, sizeof(progname), "%s", p ? p + 1 : argv0);
}

const char *
util_prog(void)
{
	return progname;
}

/* The words of a key, for secret_name: "AccountKey" and "account-key" are both "account", "key". */
static int
word_break(const char *s, size_t i)
{
	return i > 0 && islower((unsigned char)s[i - 1]) && isupper((unsigned char)s[i]);
}

int
secret_name(const char *name, size_t len)
{
	static const char *const parts[] = { "password", "passwd", "secret", "credential",
	    "signature", "connectionstring", "connection-string", "connection_string", NULL };
	char low[256];
	size_t i, w;
	int k;

	if (len >= sizeof(low))
		len = sizeof(low) - 1;
	for (i = 0; i < len; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[len] = '\0';
	for (k = 0; parts[k]; k++)
		if (strstr(low, parts[k]))
			return 1;
	/* word by word: one ending in "key", "keys" or "token" (not "tokenizer"), one
	 * starting with "sas", "sig", "pwd" */
	for (i = 0; i < len; i = w) {
		size_t n;

		while (i < len && !isalnum((unsigned char)low[i]))
			i++;
		for (w = i + 1; w < len && isalnum((unsigned char)low[w]) && !word_break(name, w); w++)
			;
		if (w > len)
			break;
		n = w - i;
		if ((n >= 3 && !memcmp(low + w - 3, "key", 3)) ||
		    (n >= 4 && !memcmp(low + w - 4, "keys", 4)) ||
		    (n >= 5 && !memcmp(low + w - 5, "token", 5)) ||
		    (n >= 3 && !memcmp(low + i, "sas", 3)) ||
		    (n == 3 && (!memcmp(low + i, "sig", 3) || !memcmp(low + i, "pwd", 3))))
			return 1;
	}
	return 0;
}

/* Characters of a name in NAME=VALUE, and what ends its value (": " ends a message's part). */
#define NAMECH(c) (isalnum((unsigned char)(c)) || (c) == '_' || (c) == '-' || (c) == '.')
#define VALEND(p) (!*(p) || strchr("&; \t\r\n\"',}>)", *(p)) || ((p)[0] == ':' && (p)[1] == ' '))

size_t
redact_into(const char *s, char *out, size_t cap)
{
	static const char mask[] = "REDACTED";
	size_t n = 0, i = 0, start = 0, m;
	const char *auth = NULL;

#define PUT(c) do { if (n + 1 < cap) out[n] = (c); n++; } while (0)
	while (s[i]) {
		/* NAME=VALUE: a name starts the text or follows a separator */
		if (NAMECH(s[i]) && (i == 0 || !NAMECH(s[i - 1]))) {
			start = i;
			while (NAMECH(s[i]))
				i++;
			for (m = start; m < i; m++)
				PUT(s[m]);
			if (s[i] == '=' && secret_name(s + start, i - start)) {
				PUT('=');
				for (m = 0; mask[m]; m++)
					PUT(mask[m]);
				for (i++; !VALEND(s + i); i++)
					;
			}
			continue;
		}
		/* scheme://user:password@host: the password */
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/') {
			PUT(':');
			PUT('/');
			PUT('/');
			i += 3;
			auth = s + i;
			m = strcspn(auth, "/?#@ \t\n'\"");
			if (auth[m] == '@' && memchr(auth, ':', m)) {
				const char *colon = memchr(auth, ':', m);

				for (; s + i <= colon; i++)
					PUT(s[i]);
				for (m = 0; mask[m]; m++)
					PUT(mask[m]);
				i = (size_t)(strchr(colon, '@') - s);
			}
			continue;
		}
		PUT(s[i]);
		i++;
	}
#undef PUT
	if (cap)
		out[n < cap ? n : cap - 1] = '\0';
	return n;
}

int
secret_in(const char *s)
{
	char *r = redact(s);
	int d = strcmp(r, s) != 0;

	free(r);
	return d;
}

char *
url_public(const char *url)
{
	struct sbuf out;
	const char *p = url, *q, *at;
	size_t n;

	sbuf_init(&out, strlen(url) + 1);
	/* scheme://user:password@: the user stays */
	if ((q = strstr(p, "://"))) {
		q += 3;
		n = strcspn(q, "/?#@");
		at = q[n] == '@' ? q + n : NULL;
		sbuf_add(&out, p, (size_t)(q - p));
		if (at && memchr(q, ':', n)) {
			sbuf_add(&out, q, (size_t)((const char *)memchr(q, ':', n) - q));
			p = at;
		} else {
			p = q;
		}
	}
	/* the rest, field by field: a query with a secret goes whole, a secret NAME=VALUE alone */
	while (*p) {
		if (*p == '?' && secret_in(p)) {
			while (*p && *p != '#')
				p++;
			continue;
		}
		n = strcspn(p + 1, ";&?#") + 1;
		{
			char *field = xstrndup(p, n);
			/* a field of a connection string, "AccountKey=...", or of a query */
			const char *f = field + (strchr(";&", *field) ? 1 : 0);

			if (!secret_in(f))
				sbuf_add(&out, field, n);
			free(field);
		}
		p += n;
	}
	if (!out.buf)
		return xstrdup("");
	return sbuf_detach(&out, NULL);
}

char *
redact(const char *s)
{
	size_t n = redact_into(s, NULL, 0);
	char *out = xmalloc(n + 1);

	redact_into(s, out, n + 1);
	return out;
}

void
vwarnx(const char *fmt, va_list ap)
{
	int saved = errno;
	size_t n = strlen(fmt);
	char raw[4096], buf[4096];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* no message ever shows a secret: a SAS signature or an account key in a URL, say */
	redact_into(raw, buf, sizeof(buf));
	if (n > 0 && fmt[n - 1] == ':')
		fprintf(stderr, "%s: %s %s\n", progname, buf, strerror(saved));
	else
		fprintf(stderr, "%s: %s\n", progname, buf);
	errno = saved;
}

void
warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	exit(EXIT_FAIL);
}

void
die_status(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	exit(status);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die("out of memory");
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return p;
}

void
sbuf_init(struct sbuf *sb, size_t max)
{
	sb->cap = 64 < max ? 64 : max;
	sb->buf = xmalloc(sb->cap + 1);
	sb->buf[0] = '\0';
	sb->len = 0;
	sb->max = max;
}

void
sbuf_release(struct sbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

void
sbuf_reset(struct sbuf *sb)
{
	sb->len = 0;
	sb->buf[0] = '\0';
}

static int
sbuf_grow(struct sbuf *sb, size_t extra)
{
	size_t want;

	if (extra > sb->max - sb->len)
		return -1;
	want = sb->len + extra;
	if (want <= sb->cap)
		return 0;
	if (sb->cap > SIZE_MAX / 4)
		return -1;
	while (sb->cap < want)
		sb->cap = sb->cap * 2 + 16;
	if (sb->cap > sb->max)
		sb->cap = sb->max;
	sb->buf = xrealloc(sb->buf, sb->cap + 1);
	return 0;
}

int
sbuf_add(struct sbuf *sb, const void *data, size_t len)
{
	if (sbuf_grow(sb, len) < 0)
		return -1;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int
sbuf_addc(struct sbuf *sb, char c)
{
	return sbuf_add(sb, &c, 1);
}

int
sbuf_adds(struct sbuf *sb, const char *s)
{
	return sbuf_add(sb, s, strlen(s));
}

int
sbuf_addf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sbuf_grow(sb, (size_t)n + 1) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

char *
sbuf_detach(struct sbuf *sb, size_t *len)
{
	char *p = sb->buf;

	if (len)
		*len = sb->len;
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return p;
}

int
parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
		return -1;
	if (*end || end == s)
		return -1;
	*out = v;
	return 0;
}

int64_t
opt_i64(const char *opt, const char *s, int64_t min, int64_t max)
{
	int64_t v;

	if (parse_i64(s, min, max, &v) < 0)
		die_status(EXIT_USAGE, "option '%s': '%s' is not a whole number from %lld to %lld",
		    opt, s, (long long)min, (long long)max);
	return v;
}

int64_t
time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double
time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
time_iso(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int
time_parse_iso(const char *s, int64_t *ms)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, frac = 0, n = 0;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return -1;
	s += n;
	if (*s == '.') {
		int digits = 0;

		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*s - '0');
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (strcmp(s, "Z") != 0)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

int
mkdir_p(const char *path)
{
	char *parent;
	size_t n = strlen(path);
	int ret;

	/* mostly only the last folder is missing, or none: make the parents only when needed */
	if (mkdir(path, 0777) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	while (n > 1 && path[n - 1] == '/')
		n--;
	while (n > 0 && path[n - 1] != '/')
		n--;
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0 || (n == 1 && path[0] == '/'))
		return -1;
	parent = xstrndup(path, n);
	ret = mkdir_p(parent);
	free(parent);
	if (ret == 0 && mkdir(path, 0777) < 0 && errno != EEXIST)
		ret = -1;
	return ret;
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
file_read(const char *path, struct sbuf *sb)
{
	char buf[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (sbuf_add(sb, buf, (size_t)n) < 0) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	return 0;
}

int
pid_gone(const char *pid, size_t len)
{
	char num[32];
	int64_t v;

	if (len == 0 || len >= sizeof(num))
		return 0;
	memcpy(num, pid, len);
	num[len] = '\0';
	if (parse_i64(num, 1, INT32_MAX, &v) < 0)
		return 0;
	return kill((pid_t)v, 0) < 0 && errno == ESRCH;
}

void
tmp_sweep_at(int dirfd, int (*orphan)(const char *name, const void *arg), const void *arg,
    int64_t stale_ms)
{
	int64_t now = time_now_ms();
	struct dirent *de;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return;
	if (!(d = fdopendir(fd))) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		struct stat sb;

		if (de->d_name[0] == '.' || !orphan(de->d_name, arg))
			continue;
		if (fstatat(fd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
		    now - ((int64_t)sb.st_mtim.tv_sec * 1000 + sb.st_mtim.tv_nsec / 1000000) > stale_ms)
			unlinkat(fd, de->d_name, 0);
	}
	closedir(d);
}

void
tmp_sweep(const char *dir, int (*orphan)(const char *name, const void *arg), const void *arg,
    int64_t stale_ms)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	tmp_sweep_at(fd, orphan, arg, stale_ms);
	close(fd);
}

int
file_replace(const char *path, const void *buf, size_t len, mode_t mode)
{
	char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid()), *dir = xstrdup(path), *slash;
	int fd = -1, ret = -1, e;

	if ((slash = strrchr(dir, '/')) && slash != dir)
		*slash = '\0';
	if ((!slash || slash == dir || mkdir_p(dir) == 0) &&
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)) >= 0 &&
	    write_all(fd, buf, len) == 0 && close(fd) == 0) {
		fd = -1;
		ret = rename(tmp, path);
	}
	e = errno;
	if (fd >= 0)
		close(fd);
	if (ret < 0)
		unlink(tmp);
	free(tmp);
	free(dir);
	errno = e;
	return ret;
}

char *
self_dir(void)
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	return xstrdup(self);
}

void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

char *
path_join(const char *a, const char *b)
{
	size_t n = strlen(a);

	if (!*a)
		return xstrdup(b);
	if (!*b)
		return xstrdup(a);
	return xasprintf("%s%s%s", a, a[n - 1] == '/' ? "" : "/", b);
}

char *
xt_home_maybe(void)
{
	const char *h = getenv("XT_HOME");

	if (h && *h)
		return xstrdup(h);
	h = getenv("HOME");
	return h && *h ? path_join(h, ".xt") : NULL;
}

char *
xt_home(void)
{
	char *h = xt_home_maybe();

	/* not a shared folder such as /tmp/.xt, which anyone could have made first */
	if (!h)
		die("neither XT_HOME nor HOME is set: set XT_HOME to the folder for xt's store, "
		    "queue and caches");
	return h;
}

void
stdout_close(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0)
		die("error writing to standard output:");
}

int
stderr_isatty(void)
{
	return isatty(2);
}

int
color_tty(int fd)
{
	const char *term = getenv("TERM"), *no = getenv("NO_COLOR");

	return isatty(fd) && term && *term && strcmp(term, "dumb") && !(no && *no);
}

uint32_t
fnv1a(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ s[i]) * 16777619u;
	return h;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
base64_encode(const void *data, size_t len, char *out)
{
	const unsigned char *p = data;
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		unsigned long v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 | p[i + 2];

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	if (i < len) {
		unsigned long v = (unsigned long)p[i] << 16 | (i + 1 < len ? (unsigned long)p[i + 1] << 8 : 0);

		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

long
base64_decode(const char *s, size_t n, unsigned char *out, size_t cap)
{
	size_t i, o = 0;

	if (n % 4)
		return -1;
	for (i = 0; i < n; i += 4) {
		unsigned long v = 0;
		int j, pad = 0;

		for (j = 0; j < 4; j++) {
			const char *c = s[i + j] ? strchr(b64, s[i + j]) : NULL;

			if (s[i + j] == '=' && i + 4 == n && j >= 2 && (j == 3 || s[i + 3] == '=')) {
				pad++;
				v <<= 6;
				continue;
			}
			if (!c || pad)
				return -1;
			v = v << 6 | (unsigned long)(c - b64);
		}
		if (o + 3 - (size_t)pad > cap)
			return -1;
		out[o++] = (unsigned char)(v >> 16);
		if (pad < 2)
			out[o++] = (unsigned char)(v >> 8);
		if (pad < 1)
			out[o++] = (unsigned char)v;
	}
	return (long)o;
}
