/*
 * ssh.c: host resolution through the OpenSSH client config, and one
 * libssh2 session: connect, host key check, public key login, commands,
 * SFTP and the staging of files by SHA-256. See ssh.h.
 *
 * libssh2 1.10 facts this file is built around: the host key method is
 * chosen before the handshake, so the preference is set from the
 * known_hosts entries of the host (else a known ed25519 key would be
 * NOTFOUND when the server offers ECDSA first); a command's stdout and
 * stderr are read without blocking (one full window would stall the
 * other); a command killed by a signal has exit status 0, so its exit
 * signal is asked for; SFTP version 3 renames never overwrite, so the
 * atomic replace is a `mv -f` on the box.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bearssl.h>
#include <libssh2.h>
#include <libssh2_sftp.h>

#include "sha256.h"
#include "ssh.h"
#include "banned.h"

#define CFG_DEPTH 8
#define CFG_ARGS 32
#define KH_MAX ((size_t)16 << 20)

struct ssh {
	struct ssh_host h;
	int connect_ms, io_ms, keepalive_s;
	int fd;
	int dead;		/* the connection was lost: every call fails at once */
	LIBSSH2_SESSION *sess;
	LIBSSH2_SFTP *sftp;
	char err[2048];
};

static long nconnections;

/* ---- small helpers ---- */

/* The user's entry, field 'd' (home) or 'u' (name). Caller frees; NULL when unknown. */
static char *
pw_field(int which)
{
	struct passwd pw, *r = NULL;
	char buf[4096], *v = NULL;

	/* getpwuid_r: several threads may resolve hosts at once */
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &r) == 0 && r)
		v = which == 'd' ? r->pw_dir : r->pw_name;
	return v && *v ? xstrdup(v) : NULL;
}

/* $HOME, else the passwd entry's home, else "/" (valid in this thread until its next call). */
static const char *
home_dir(void)
{
	static _Thread_local char buf[4096];
	const char *h = getenv("HOME");
	char *p;

	if (h && *h)
		return h;
	if (!(p = pw_field('d')))
		return "/";
	snprintf(buf, sizeof(buf), "%s", p);
	free(p);
	return buf;
}

static char *
local_user(void)
{
	const char *u = getenv("USER");
	char *p = pw_field('u');

	return p ? p : xstrdup(u && *u ? u : "root");
}

/* s with a leading "~" or "~/" turned into the home. Caller frees. */
static char *
tilde(const char *s)
{
	if (s[0] == '~' && (s[1] == '\0' || s[1] == '/'))
		return xasprintf("%s%s", home_dir(), s + 1);
	return xstrdup(s);
}

/* path with the home shown as "~", for messages. Caller frees. */
static char *
untilde(const char *path)
{
	const char *h = home_dir();
	size_t n = strlen(h);

	if (n > 1 && strncmp(path, h, n) == 0 && path[n] == '/')
		return xasprintf("~%s", path + n);
	return xstrdup(path);
}

static void PRINTF(3, 4)
seterr(struct ssh *s, int label, const char *fmt, ...)
{
	va_list ap;
	int n = 0;

	if (label)
		n = snprintf(s->err, sizeof(s->err), "%s: ", s->h.label);
	if (n < 0 || (size_t)n >= sizeof(s->err))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(s->err + n, sizeof(s->err) - n, fmt, ap);
	va_end(ap);
}

static const char *
lib_msg(struct ssh *s)
{
	char *m = NULL;

	if (!s->sess || libssh2_session_last_error(s->sess, &m, NULL, 0) == 0 || !m)
		return "no error";
	return m;
}

static int
is_lost(int rc)
{
	return rc == LIBSSH2_ERROR_SOCKET_SEND || rc == LIBSSH2_ERROR_SOCKET_RECV ||
	    rc == LIBSSH2_ERROR_SOCKET_DISCONNECT || rc == LIBSSH2_ERROR_TIMEOUT ||
	    rc == LIBSSH2_ERROR_SOCKET_TIMEOUT || rc == LIBSSH2_ERROR_BAD_SOCKET;
}

/* A libssh2 failure rc while doing what: SSH_ELOST or SSH_ERR, with its message. */
static int
fail(struct ssh *s, int rc, const char *what)
{
	if (is_lost(rc)) {
		s->dead = 1;
		seterr(s, 1, "connection lost while %s (%s)", what,
		    rc == LIBSSH2_ERROR_TIMEOUT ? "no answer in time" : lib_msg(s));
		return SSH_ELOST;
	}
	seterr(s, 1, "%s failed: %s", what, lib_msg(s));
	return SSH_ERR;
}

static int
alive(struct ssh *s)
{
	if (!s->sess) {
		seterr(s, 1, "not connected");
		return SSH_ERR;
	}
	if (s->dead) {
		seterr(s, 1, "the connection was lost");
		return SSH_ELOST;
	}
	return SSH_OK;
}

/* ---- patterns and the client config ---- */

/* OpenSSH's match_pattern: * and ? wildcards, case-insensitive. */
static int
glob_match(const char *p, const char *s)
{
	for (; *p; p++, s++) {
		if (*p == '*') {
			while (*p == '*')
				p++;
			if (!*p)
				return 1;
			for (; *s; s++)
				if (glob_match(p, s))
					return 1;
			return 0;
		}
		if (!*s)
			return 0;
		if (*p != '?' && (*p | 0x20) != (*s | 0x20) && *p != *s)
			return 0;
	}
	return !*s;
}

/* One pattern of a list, maybe negated: 1 match, -1 negated match, 0 none. */
static int
pattern_one(const char *pat, const char *name)
{
	if (pat[0] == '!')
		return glob_match(pat + 1, name) ? -1 : 0;
	return glob_match(pat, name);
}

struct cfg {
	const char *alias;
	char *hostname, *user, *kh;
	int port, strict, timeout;
	char *ids[SSH_ID_MAX];
	size_t nids;
	char *err;
	size_t errlen;
	int depth;
};

/* Split line into words (double quotes group); -1 for an unterminated quote, -2 too many. */
static int
split_words(char *line, char **argv, int *argc)
{
	char *p = line, *w;
	int n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p || *p == '#')
			break;
		if (n == CFG_ARGS)
			return -2;
		if (*p == '"') {
			w = ++p;
			while (*p && *p != '"')
				p++;
			if (!*p)
				return -1;
		} else {
			w = p;
			while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
				p++;
		}
		argv[n++] = w;
		if (!*p)
			break;
		*p++ = '\0';
	}
	*argc = n;
	return 0;
}

/* True when every % in s starts a token expand() knows. */
static int
tokens_ok(const char *s, char *bad)
{
	for (; *s; s++)
		if (*s == '%') {
			s++;
			if (!*s || !strchr("duhrpn%", *s)) {
				*bad = *s ? *s : ' ';
				return 0;
			}
		}
	return 1;
}

/* s with ~ and %d %u %h %r %p %n %% expanded for h. Caller frees. */
static char *
expand(const char *s, const struct ssh_host *h)
{
	struct sbuf sb;
	char *t = tilde(s), *u = local_user(), *p;

	sbuf_init(&sb, 1 << 16);
	for (p = t; *p; p++) {
		if (*p != '%' || !p[1]) {
			sbuf_addc(&sb, *p);
			continue;
		}
		switch (*++p) {
		case 'd': sbuf_adds(&sb, home_dir()); break;
		case 'u': sbuf_adds(&sb, u); break;
		case 'h': sbuf_adds(&sb, h->hostname ? h->hostname : h->alias); break;
		case 'r': sbuf_adds(&sb, h->user); break;
		case 'p': sbuf_addf(&sb, "%d", h->port); break;
		case 'n': sbuf_adds(&sb, h->alias); break;
		default: sbuf_addc(&sb, *p); break;
		}
	}
	free(t);
	free(u);
	return sbuf_detach(&sb, NULL);
}

static int cfg_file(struct cfg *c, const char *path, int *active, int must);

static int PRINTF(4, 5)
cfg_err(struct cfg *c, const char *file, long line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(c->err, c->errlen, "%s:%ld: ", file, line);

	if (n < 0 || (size_t)n >= c->errlen)
		return SSH_EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return SSH_EINVAL;
}

static int
cfg_include(struct cfg *c, const char *file, long ln, int argc, char **argv, int *active)
{
	int i, rc = 0;
	size_t k;

	if (c->depth >= CFG_DEPTH)
		return cfg_err(c, file, ln, "Include nested deeper than %d", CFG_DEPTH);
	for (i = 1; i < argc && rc == 0; i++) {
		char *t = tilde(argv[i]), *pat;
		glob_t g;

		pat = t[0] == '/' ? xstrdup(t) : xasprintf("%s/.ssh/%s", home_dir(), t);
		free(t);
		if (glob(pat, 0, NULL, &g) == 0) {
			c->depth++;
			for (k = 0; k < g.gl_pathc && rc == 0; k++)
				rc = cfg_file(c, g.gl_pathv[k], active, 1);
			c->depth--;
			globfree(&g);
		}
		free(pat);
	}
	return rc;
}

/* One line's keyword and words; *active is whether the current block applies. */
static int
cfg_line(struct cfg *c, const char *file, long ln, int argc, char **argv, int *active)
{
	const char *kw = argv[0];
	char bad;
	int64_t v;
	int i, m, neg;

	if (!strcasecmp(kw, "Host")) {
		if (argc < 2)
			return cfg_err(c, file, ln, "Host needs a pattern");
		for (m = 0, neg = 0, i = 1; i < argc; i++) {
			int r = pattern_one(argv[i], c->alias);

			if (r < 0)
				neg = 1;
			else if (r > 0)
				m = 1;
		}
		*active = m && !neg;
		return 0;
	}
	if (!strcasecmp(kw, "Match")) {
		/* only "Match all" is understood: other blocks are skipped */
		*active = argc == 2 && !strcasecmp(argv[1], "all");
		return 0;
	}
	if (!strcasecmp(kw, "Include")) {
		if (argc < 2)
			return cfg_err(c, file, ln, "Include needs a file");
		return *active ? cfg_include(c, file, ln, argc, argv, active) : 0;
	}
	if (!strcasecmp(kw, "HostName") || !strcasecmp(kw, "User") ||
	    !strcasecmp(kw, "Port") || !strcasecmp(kw, "IdentityFile") ||
	    !strcasecmp(kw, "UserKnownHostsFile") ||
	    !strcasecmp(kw, "StrictHostKeyChecking") || !strcasecmp(kw, "ConnectTimeout")) {
		if (argc < 2)
			return cfg_err(c, file, ln, "%s needs a value", kw);
		if (argc > 2 && strcasecmp(kw, "UserKnownHostsFile"))
			return cfg_err(c, file, ln, "%s takes one value, not %d", kw, argc - 1);
	} else {
		return 0;	/* a keyword xt does not use */
	}
	if (!tokens_ok(argv[1], &bad))
		return cfg_err(c, file, ln, "%s: unknown token '%%%c' in '%s'", kw, bad, argv[1]);
	if (!strcasecmp(kw, "Port")) {
		if (parse_i64(argv[1], 1, 65535, &v) < 0)
			return cfg_err(c, file, ln, "bad port '%s'", argv[1]);
		if (*active && !c->port)
			c->port = (int)v;
	} else if (!strcasecmp(kw, "ConnectTimeout")) {
		if (parse_i64(argv[1], 0, 86400, &v) < 0)
			return cfg_err(c, file, ln, "bad ConnectTimeout '%s' (seconds)", argv[1]);
		if (*active && !c->timeout)
			c->timeout = (int)v;
	} else if (!strcasecmp(kw, "StrictHostKeyChecking")) {
		const char *a = argv[1];
		int st;

		if (!strcasecmp(a, "yes") || !strcasecmp(a, "ask"))
			st = SSH_STRICT_YES;
		else if (!strcasecmp(a, "accept-new"))
			st = SSH_STRICT_ACCEPT_NEW;
		else if (!strcasecmp(a, "no") || !strcasecmp(a, "off"))
			st = SSH_STRICT_NO;
		else
			return cfg_err(c, file, ln, "bad StrictHostKeyChecking '%s' "
			    "(yes, accept-new, no, ask or off)", a);
		if (*active && !c->strict)
			c->strict = st;
	} else if (!*active) {
		return 0;
	} else if (!strcasecmp(kw, "HostName")) {
		if (!c->hostname)
			c->hostname = xstrdup(argv[1]);
	} else if (!strcasecmp(kw, "User")) {
		if (!c->user)
			c->user = xstrdup(argv[1]);
	} else if (!strcasecmp(kw, "UserKnownHostsFile")) {
		if (!c->kh)
			c->kh = xstrdup(argv[1]);
	} else if (c->nids < SSH_ID_MAX) {
		c->ids[c->nids++] = xstrdup(argv[1]);
	}
	return 0;
}

/* Read one config file; must: a missing file is an error. */
static int
cfg_file(struct cfg *c, const char *path, int *active, int must)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, *argv[CFG_ARGS], *p;
	size_t cap = 0;
	ssize_t len;
	long ln = 0;
	int argc, rc = 0;

	if (!f) {
		if (!must && errno == ENOENT)
			return 0;
		snprintf(c->err, c->errlen, "cannot open '%s': %s", path, strerror(errno));
		return SSH_EINVAL;
	}
	while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
		ln++;
		if (len > 4096) {
			rc = cfg_err(c, path, ln, "line longer than 4096 bytes");
			break;
		}
		if ((size_t)len != strlen(line)) {
			rc = cfg_err(c, path, ln, "a NUL byte");
			break;
		}
		/* "Keyword=value" as "Keyword value" */
		p = line + strspn(line, " \t");
		if ((len = strcspn(p, " \t=\r\n")) > 0) {
			p += len;
			p += strspn(p, " \t");
			if (*p == '=')
				*p = ' ';
		}
		switch (split_words(line, argv, &argc)) {
		case -1: rc = cfg_err(c, path, ln, "unterminated quote"); continue;
		case -2: rc = cfg_err(c, path, ln, "more than %d words", CFG_ARGS); continue;
		}
		if (argc == 0)
			continue;
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", argv[0][0])) {
			rc = cfg_err(c, path, ln, "expected a keyword, not '%s'", argv[0]);
			continue;
		}
		rc = cfg_line(c, path, ln, argc, argv, active);
	}
	free(line);
	fclose(f);
	return rc;
}

static void
cfg_release(struct cfg *c)
{
	size_t i;

	free(c->hostname);
	free(c->user);
	free(c->kh);
	for (i = 0; i < c->nids; i++)
		free(c->ids[i]);
}

/* Split "user@host:port" into h's user, alias and port. */
static int
parse_name(const char *name, struct ssh_host *h, char *err, size_t errlen)
{
	const char *at = strrchr(name, '@'), *host = at ? at + 1 : name, *pp = NULL, *e;
	int64_t v;
	size_t i;

	if (at == name) {
		snprintf(err, errlen, "bad host name '%s': no user before '@'", name);
		return SSH_EINVAL;
	}
	if (host[0] == '[') {
		e = strchr(host, ']');
		if (!e || (e[1] && e[1] != ':')) {
			snprintf(err, errlen, "bad host name '%s': expected [host]:port", name);
			return SSH_EINVAL;
		}
		h->alias = xstrndup(host + 1, e - host - 1);
		if (e[1])
			pp = e + 2;
	} else if ((e = strchr(host, ':')) && !strchr(e + 1, ':')) {
		h->alias = xstrndup(host, e - host);
		pp = e + 1;
	} else {
		h->alias = xstrdup(host);
	}
	if (!h->alias[0] || h->alias[0] == '-') {
		snprintf(err, errlen, "bad host name '%s': %s", name,
		    h->alias[0] ? "starts with '-'" : "no host");
		return SSH_EINVAL;
	}
	for (i = 0; name[i]; i++)
		if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f) {
			snprintf(err, errlen, "bad host name '%s': a space or control character", name);
			return SSH_EINVAL;
		}
	if (pp) {
		if (parse_i64(pp, 1, 65535, &v) < 0) {
			snprintf(err, errlen, "bad host name '%s': bad port '%s'", name, pp);
			return SSH_EINVAL;
		}
		h->port = (int)v;
	}
	if (at)
		h->user = xstrndup(name, at - name);
	return SSH_OK;
}

int
ssh_host_resolve(const char *name, const struct ssh_opts *o, struct ssh_host *h,
    char *err, size_t errlen)
{
	static const struct ssh_opts none;
	struct cfg c;
	char *path;
	int rc, active = 1;
	size_t i;

	if (!o)
		o = &none;
	memset(h, 0, sizeof(*h));
	h->name = xstrdup(name);
	if ((rc = parse_name(name, h, err, errlen)) < 0) {
		ssh_host_release(h);
		return rc;
	}
	memset(&c, 0, sizeof(c));
	c.alias = h->alias;
	c.err = err;
	c.errlen = errlen;
	if (!o->config || strcmp(o->config, "none")) {
		path = o->config ? tilde(o->config) : xasprintf("%s/.ssh/config", home_dir());
		rc = cfg_file(&c, path, &active, o->config != NULL);
		free(path);
		if (rc < 0) {
			cfg_release(&c);
			ssh_host_release(h);
			return rc;
		}
	}
	if (!h->user)
		h->user = c.user ? xstrdup(c.user) : local_user();
	if (!h->port)
		h->port = c.port ? c.port : 22;
	h->hostname = c.hostname ? expand(c.hostname, h) : xstrdup(h->alias);
	if (o->identity_file)
		h->identity[h->nidentity++] = tilde(o->identity_file);
	for (i = 0; i < c.nids && h->nidentity < SSH_ID_MAX; i++)
		h->identity[h->nidentity++] = expand(c.ids[i], h);
	if (o->known_hosts)
		h->known_hosts = tilde(o->known_hosts);
	else if (c.kh)
		h->known_hosts = expand(c.kh, h);
	else
		h->known_hosts = xasprintf("%s/.ssh/known_hosts", home_dir());
	h->strict = o->strict ? o->strict : c.strict ? c.strict : SSH_STRICT_YES;
	h->connect_timeout = c.timeout;
	h->label = strchr(h->hostname, ':') ?
	    xasprintf("%s@[%s]:%d", h->user, h->hostname, h->port) :
	    xasprintf("%s@%s:%d", h->user, h->hostname, h->port);
	cfg_release(&c);
	return SSH_OK;
}

void
ssh_host_release(struct ssh_host *h)
{
	size_t i;

	free(h->name);
	free(h->alias);
	free(h->user);
	free(h->hostname);
	for (i = 0; i < h->nidentity; i++)
		free(h->identity[i]);
	free(h->known_hosts);
	free(h->label);
	memset(h, 0, sizeof(*h));
}

static void
host_copy(struct ssh_host *d, const struct ssh_host *h)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	d->name = xstrdup(h->name ? h->name : h->hostname);
	d->alias = xstrdup(h->alias ? h->alias : h->hostname);
	d->user = xstrdup(h->user);
	d->hostname = xstrdup(h->hostname);
	d->port = h->port;
	for (i = 0; i < h->nidentity; i++)
		d->identity[i] = xstrdup(h->identity[i]);
	d->nidentity = h->nidentity;
	d->known_hosts = xstrdup(h->known_hosts);
	d->strict = h->strict;
	d->connect_timeout = h->connect_timeout;
	d->label = h->label ? xstrdup(h->label) : xasprintf("%s@%s:%d", h->user, h->hostname, h->port);
}

/* ---- session ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;

static void
lib_init(void)
{
	init_rc = libssh2_init(0);
}

struct ssh *
ssh_new(const struct ssh_host *h, const struct ssh_opts *o)
{
	struct ssh *s = xcalloc(1, sizeof(*s));

	host_copy(&s->h, h);
	s->fd = -1;
	s->connect_ms = o && o->connect_timeout_ms > 0 ? o->connect_timeout_ms :
	    h->connect_timeout > 0 ? h->connect_timeout * 1000 : 10000;
	s->io_ms = o && o->io_timeout_ms > 0 ? o->io_timeout_ms : 60000;
	s->keepalive_s = o && o->keepalive_s > 0 ? o->keepalive_s : 15;
	return s;
}

const char *
ssh_error(const struct ssh *s)
{
	return s->err;
}

const char *
ssh_label(const struct ssh *s)
{
	return s->h.label;
}

long
ssh_connections(void)
{
	return __atomic_load_n(&nconnections, __ATOMIC_RELAXED);
}

void
ssh_free(struct ssh *s)
{
	if (!s)
		return;
	if (s->sess) {
		if (!s->dead) {
			/* a quick goodbye: no waiting on a box that stopped answering */
			libssh2_session_set_timeout(s->sess, 2000);
			if (s->sftp)
				libssh2_sftp_shutdown(s->sftp);
			libssh2_session_disconnect(s->sess, "bye");
		}
		libssh2_session_free(s->sess);
	}
	if (s->fd >= 0)
		close(s->fd);
	ssh_host_release(&s->h);
	free(s);
}

static void
sock_opts(struct ssh *s, int fd)
{
	int one = 1, idle = s->keepalive_s, cnt = 3;
	unsigned ut = (unsigned)s->io_ms;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	/* data (a keepalive) unacknowledged this long: the box is gone */
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ut, sizeof(ut));
}

static int
tcp_connect(struct ssh *s)
{
	struct addrinfo hints, *ai, *p;
	char port[16];
	int rc, fd = -1, e = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", s->h.port);
	if ((rc = getaddrinfo(s->h.hostname, port, &hints, &ai)) != 0) {
		seterr(s, 1, "cannot resolve '%s': %s", s->h.hostname,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return SSH_ECONNECT;
	}
	for (p = ai; p; p = p->ai_next) {
		struct pollfd pf;
		socklen_t sl = sizeof(e);

		fd = socket(p->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			e = errno;
			continue;
		}
		__atomic_add_fetch(&nconnections, 1, __ATOMIC_RELAXED);
		if (connect(fd, p->ai_addr, p->ai_addrlen) == 0)
			break;
		e = errno;
		if (e == EINPROGRESS) {
			pf.fd = fd;
			pf.events = POLLOUT;
			do
				rc = poll(&pf, 1, s->connect_ms);
			while (rc < 0 && errno == EINTR);
			if (rc == 0)
				e = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
				e = errno;
			if (rc > 0 && e == 0)
				break;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0) {
		if (e == ETIMEDOUT)
			seterr(s, 1, "cannot connect: no answer in %d ms", s->connect_ms);
		else
			seterr(s, 1, "cannot connect: %s", strerror(e));
		return SSH_ECONNECT;
	}
	sock_opts(s, fd);
	s->fd = fd;
	return SSH_OK;
}

/* The known_hosts name of the host: "host", or "[host]:port" off port 22. */
static char *
kh_name(const struct ssh_host *h)
{
	if (h->port == 22)
		return xstrdup(h->hostname);
	return xasprintf("[%s]:%d", h->hostname, h->port);
}

/* A hashed entry "|1|salt|hash" names host. */
static int
kh_hashed_match(const char *e, size_t n, const char *host)
{
	unsigned char salt[64], want[64], got[20];
	const char *bar;
	long sl, wl;
	br_hmac_key_context kc;
	br_hmac_context hc;

	if (n < 4 || strncmp(e, "|1|", 3) || !(bar = memchr(e + 3, '|', n - 3)))
		return 0;
	sl = base64_decode(e + 3, bar - e - 3, salt, sizeof(salt));
	wl = base64_decode(bar + 1, e + n - bar - 1, want, sizeof(want));
	if (sl <= 0 || wl != 20)
		return 0;
	br_hmac_key_init(&kc, &br_sha1_vtable, salt, sl);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, host, strlen(host));
	br_hmac_out(&hc, got);
	return memcmp(got, want, 20) == 0;
}

/* The host field (comma-separated patterns or hashes) names host. */
static int
kh_hosts_match(const char *f, size_t n, const char *host)
{
	int m = 0;

	while (n > 0) {
		const char *c = memchr(f, ',', n);
		size_t k = c ? (size_t)(c - f) : n;
		char *pat = xstrndup(f, k);
		int r = pat[0] == '|' ? kh_hashed_match(pat, k, host) : pattern_one(pat, host);

		free(pat);
		if (r < 0)
			return 0;
		if (r > 0)
			m = 1;
		f += k;
		n -= k;
		if (n) {
			f++;
			n--;
		}
	}
	return m;
}

static const char *const hostkey_types[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "ssh-rsa"
};

/*
 * Feed the known_hosts lines to kh (lines libssh2 cannot parse, such as
 * @cert-authority or a key type it lacks, are left out rather than
 * failing the file) and put the key types known for the host into pref,
 * as a method list (empty when none).
 */
static void
kh_load(struct ssh *s, LIBSSH2_KNOWNHOSTS *kh, const char *name, struct sbuf *pref)
{
	struct sbuf f;
	char *p, *end, *nl;
	size_t i;

	sbuf_init(&f, KH_MAX);
	if (file_read(s->h.known_hosts, &f) < 0) {
		sbuf_release(&f);
		return;
	}
	for (p = f.buf, end = f.buf + f.len; p < end; p = nl + 1) {
		char *hosts, *type, *q;
		size_t hl, tl;

		if (!(nl = memchr(p, '\n', end - p)))
			nl = end;
		*nl = '\0';
		p += strspn(p, " \t");
		if (!*p || *p == '#' || *p == '@')
			continue;
		libssh2_knownhost_readline(kh, p, nl - p, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
		hosts = p;
		hl = strcspn(hosts, " \t");
		type = hosts + hl + strspn(hosts + hl, " \t");
		tl = strcspn(type, " \t");
		if (!kh_hosts_match(hosts, hl, name))
			continue;
		for (i = 0; i < sizeof(hostkey_types) / sizeof(hostkey_types[0]); i++) {
			if (strlen(hostkey_types[i]) != tl || strncmp(type, hostkey_types[i], tl))
				continue;
			q = xstrndup(type, tl);
			if (!strstr(pref->buf, q)) {
				if (pref->len)
					sbuf_addc(pref, ',');
				sbuf_adds(pref, q);
			}
			free(q);
		}
	}
	sbuf_release(&f);
}

/* Add the host key types pref lacks, in OpenSSH's order. */
static void
pref_complete(struct sbuf *pref)
{
	size_t i;

	for (i = 0; i < sizeof(hostkey_types) / sizeof(hostkey_types[0]); i++)
		if (!strstr(pref->buf, hostkey_types[i]))
			sbuf_addf(pref, "%s%s", pref->len ? "," : "", hostkey_types[i]);
}

/* The server's key types: libssh2's number, OpenSSH's label and name, the known_hosts bit. */
static const struct {
	int type;
	const char *label, *name;
	int bit;
} key_types[] = {
	{ LIBSSH2_HOSTKEY_TYPE_RSA, "RSA", "ssh-rsa", LIBSSH2_KNOWNHOST_KEY_SSHRSA },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, "ECDSA", "ecdsa-sha2-nistp256", LIBSSH2_KNOWNHOST_KEY_ECDSA_256 },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, "ECDSA", "ecdsa-sha2-nistp384", LIBSSH2_KNOWNHOST_KEY_ECDSA_384 },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, "ECDSA", "ecdsa-sha2-nistp521", LIBSSH2_KNOWNHOST_KEY_ECDSA_521 },
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, "ED25519", "ssh-ed25519", LIBSSH2_KNOWNHOST_KEY_ED25519 },
};

/* The server's key as OpenSSH names its type and as ssh-keygen -l prints its hash. */
static void
key_info(struct ssh *s, int type, const char **label, const char **tname, int *bit, char *fp,
    size_t fplen)
{
	const char *hash = libssh2_hostkey_hash(s->sess, LIBSSH2_HOSTKEY_HASH_SHA256);
	char b64[BASE64_LEN(32)];
	size_t n, i;

	*label = "UNKNOWN";
	*tname = "unknown";
	*bit = LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (key_types[i].type == type) {
			*label = key_types[i].label;
			*tname = key_types[i].name;
			*bit = key_types[i].bit;
		}
	if (!hash) {
		snprintf(fp, fplen, "SHA256:?");
		return;
	}
	n = base64_encode(hash, 32, b64);
	while (n > 0 && b64[n - 1] == '=')
		b64[--n] = '\0';
	snprintf(fp, fplen, "SHA256:%s", b64);
}

/* Append the host's key to known_hosts in one O_APPEND write. */
static int
kh_append(struct ssh *s, const char *name, const char *tname, const char *key, size_t klen)
{
	char *b64 = xmalloc(BASE64_LEN(klen)), *dir, *sl, *line, last = '\n';
	int fd, rc = 0;
	struct stat st;

	base64_encode(key, klen, b64);
	dir = xstrdup(s->h.known_hosts);
	if ((sl = strrchr(dir, '/')) && sl != dir) {
		*sl = '\0';
		if (access(dir, F_OK) < 0 && mkdir(dir, 0700) < 0 && errno != EEXIST)
			mkdir_p(dir);
	}
	free(dir);
	fd = open(s->h.known_hosts, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    (st.st_size > 0 && pread(fd, &last, 1, st.st_size - 1) != 1)) {
		seterr(s, 0, "cannot record the host key of %s in '%s': %s", name,
		    s->h.known_hosts, strerror(errno));
		rc = SSH_EHOSTKEY;
	} else {
		line = xasprintf("%s%s %s %s\n", last == '\n' ? "" : "\n", name, tname, b64);
		if (write_all(fd, line, strlen(line)) < 0) {
			seterr(s, 0, "cannot record the host key of %s in '%s': %s", name,
			    s->h.known_hosts, strerror(errno));
			rc = SSH_EHOSTKEY;
		}
		free(line);
	}
	if (fd >= 0)
		close(fd);
	free(b64);
	return rc;
}

static int
check_hostkey(struct ssh *s, LIBSSH2_KNOWNHOSTS *kh, const char *name)
{
	const char *key, *label, *tname;
	size_t klen;
	int type, bit, r;
	char fp[80], *khf;

	key = libssh2_session_hostkey(s->sess, &klen, &type);
	if (!key) {
		seterr(s, 1, "the server sent no host key");
		return SSH_EHOSTKEY;
	}
	key_info(s, type, &label, &tname, &bit, fp, sizeof(fp));
	r = libssh2_knownhost_checkp(kh, s->h.hostname, s->h.port, key, klen,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | bit, NULL);
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return SSH_OK;
	khf = untilde(s->h.known_hosts);
	if (r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH) {
		seterr(s, 0, "Host key verification failed for %s: the host key changed "
		    "(%s %s); %s has another: remove it if the change is expected",
		    name, label, fp, khf);
		free(khf);
		return SSH_EHOSTKEY;
	}
	if (r != LIBSSH2_KNOWNHOST_CHECK_NOTFOUND) {
		seterr(s, 0, "Host key verification failed for %s: cannot check the host key (%s)",
		    name, lib_msg(s));
		free(khf);
		return SSH_EHOSTKEY;
	}
	if (s->h.strict == SSH_STRICT_YES) {
		seterr(s, 0, "Host key verification failed for %s: the host key is unknown "
		    "(%s %s), not in %s", name, label, fp, khf);
		free(khf);
		return SSH_EHOSTKEY;
	}
	free(khf);
	return kh_append(s, name, tname, key, klen);
}

/* True when the private key file at path is encrypted (OpenSSH or PEM format). */
static int
key_encrypted(const char *path)
{
	struct sbuf f;
	char *b, *e, b64[65];
	unsigned char raw[64];
	size_t n = 0;
	long r;
	int enc = 0;
	uint32_t cl;

	sbuf_init(&f, 1 << 20);
	if (file_read(path, &f) < 0) {
		sbuf_release(&f);
		return 0;
	}
	if ((b = strstr(f.buf, "-----BEGIN OPENSSH PRIVATE KEY-----"))) {
		b = strchr(b, '\n');
		e = b ? strstr(b, "-----END") : NULL;
		for (; b && b < e && n < 64; b++)
			if (!strchr(" \t\r\n", *b))
				b64[n++] = *b;
		r = n == 64 ? base64_decode(b64, 64, raw, sizeof(raw)) : -1;
		/* "openssh-key-v1\0", then the cipher's name as an SSH string */
		if (r >= 19 && memcmp(raw, "openssh-key-v1", 15) == 0) {
			cl = (uint32_t)raw[15] << 24 | raw[16] << 16 | raw[17] << 8 | raw[18];
			enc = !(cl == 4 && r >= 23 && memcmp(raw + 19, "none", 4) == 0);
		}
	} else {
		enc = strstr(f.buf, "ENCRYPTED") != NULL;
	}
	sbuf_release(&f);
	return enc;
}

static void
tried_add(struct sbuf *t, const char *what)
{
	if (t->len)
		sbuf_adds(t, ", ");
	sbuf_adds(t, what);
}

static int
auth_agent(struct ssh *s, struct sbuf *tried)
{
	LIBSSH2_AGENT *a;
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	const char *sock = getenv("SSH_AUTH_SOCK");
	int ok = 0;

	if (!sock || !*sock || !(a = libssh2_agent_init(s->sess)))
		return 0;
	if (libssh2_agent_connect(a) == 0 && libssh2_agent_list_identities(a) == 0) {
		while (!ok && libssh2_agent_get_identity(a, &id, prev) == 0) {
			ok = libssh2_agent_userauth(a, s->h.user, id) == 0;
			prev = id;
		}
		tried_add(tried, "agent");
		libssh2_agent_disconnect(a);
	} else {
		tried_add(tried, "agent (not answering)");
	}
	libssh2_agent_free(a);
	return ok;
}

static int
auth(struct ssh *s)
{
	static const char *const defaults[] = { "id_ed25519", "id_ecdsa", "id_rsa" };
	const char *user = s->h.user, *pass = getenv("XT_SSH_PASSPHRASE"), *list;
	char *files[SSH_ID_MAX], decrypt[1024] = "";
	size_t nf = 0, i;
	struct sbuf tried;
	int rc = SSH_EAUTH;

	list = libssh2_userauth_list(s->sess, user, strlen(user));
	if (!list) {
		if (libssh2_userauth_authenticated(s->sess))
			return SSH_OK;
		return fail(s, libssh2_session_last_errno(s->sess), "asking for the login methods");
	}
	if (!strstr(list, "publickey")) {
		seterr(s, 1, "permission denied: the server takes no key, only (%s)", list);
		return SSH_EAUTH;
	}
	sbuf_init(&tried, 4096);
	if (auth_agent(s, &tried)) {
		sbuf_release(&tried);
		return SSH_OK;
	}
	if (s->h.nidentity)
		for (i = 0; i < s->h.nidentity; i++)
			files[nf++] = xstrdup(s->h.identity[i]);
	else
		for (i = 0; i < 3; i++)
			files[nf++] = xasprintf("%s/.ssh/%s", home_dir(), defaults[i]);
	for (i = 0; i < nf && rc != SSH_OK; i++) {
		char *shown = untilde(files[i]), *w;
		int enc, r;

		if (access(files[i], R_OK) < 0) {
			free(shown);
			continue;
		}
		enc = key_encrypted(files[i]);
		w = xasprintf("key %s", shown);
		tried_add(&tried, w);
		free(w);
		if (enc && !pass) {
			if (!*decrypt)
				snprintf(decrypt, sizeof(decrypt), "cannot decrypt key %s: it has "
				    "a passphrase and XT_SSH_PASSPHRASE is not set", shown);
			free(shown);
			continue;
		}
		r = libssh2_userauth_publickey_fromfile_ex(s->sess, user, strlen(user), NULL,
		    files[i], enc ? pass : NULL);
		if (r == 0) {
			rc = SSH_OK;
		} else if (is_lost(r)) {
			rc = fail(s, r, "logging in");
			free(shown);
			break;
		} else if (r == LIBSSH2_ERROR_FILE && !*decrypt) {
			if (enc)
				snprintf(decrypt, sizeof(decrypt),
				    "cannot decrypt key %s: wrong passphrase", shown);
			else
				snprintf(decrypt, sizeof(decrypt), "cannot read key %s: %s",
				    shown, lib_msg(s));
		}
		free(shown);
	}
	if (rc == SSH_EAUTH) {
		if (*decrypt)
			seterr(s, 1, "%s (tried %s)", decrypt, tried.buf);
		else if (tried.len)
			seterr(s, 1, "permission denied (publickey): tried %s", tried.buf);
		else
			seterr(s, 1, "permission denied (publickey): no agent (SSH_AUTH_SOCK) "
			    "and no key (~/.ssh/id_ed25519, id_ecdsa, id_rsa)");
	}
	for (i = 0; i < nf; i++)
		free(files[i]);
	sbuf_release(&tried);
	return rc;
}

int
ssh_connect(struct ssh *s)
{
	LIBSSH2_KNOWNHOSTS *kh;
	struct sbuf pref;
	char *name;
	int rc;

	pthread_once(&init_once, lib_init);
	if (init_rc != 0) {
		seterr(s, 1, "cannot start libssh2");
		return SSH_ERR;
	}
	if (s->sess) {
		seterr(s, 1, "already connected");
		return SSH_ERR;
	}
	if ((rc = tcp_connect(s)) < 0)
		return rc;
	if (!(s->sess = libssh2_session_init())) {
		seterr(s, 1, "cannot start a session");
		return SSH_ERR;
	}
	libssh2_session_set_blocking(s->sess, 1);
	libssh2_session_set_timeout(s->sess, s->connect_ms);
	name = kh_name(&s->h);
	sbuf_init(&pref, 4096);
	kh = libssh2_knownhost_init(s->sess);
	if (kh)
		kh_load(s, kh, name, &pref);
	/* the known key types first (else a known ed25519 key is NOTFOUND), then OpenSSH's order */
	pref_complete(&pref);
	libssh2_session_method_pref(s->sess, LIBSSH2_METHOD_HOSTKEY, pref.buf);
	sbuf_release(&pref);
	rc = libssh2_session_handshake(s->sess, s->fd);
	if (rc != 0) {
		s->dead = 1;
		if (rc == LIBSSH2_ERROR_TIMEOUT)
			seterr(s, 1, "cannot connect: no SSH handshake in %d ms", s->connect_ms);
		else
			seterr(s, 1, "cannot connect: SSH handshake failed (%s)", lib_msg(s));
		rc = SSH_ECONNECT;
	} else if (!kh) {
		seterr(s, 1, "cannot check the host key: out of memory");
		rc = SSH_ERR;
	} else {
		rc = check_hostkey(s, kh, name);
	}
	if (kh)
		libssh2_knownhost_free(kh);
	free(name);
	if (rc == SSH_OK) {
		libssh2_session_set_timeout(s->sess, s->io_ms);
		rc = auth(s);
		/* after the login: a keepalive (a global request) before it is a protocol error to sshd */
		if (rc == SSH_OK)
			libssh2_keepalive_config(s->sess, 1, (unsigned)s->keepalive_s);
	}
	return rc;
}

/* ---- commands ---- */

void
ssh_exec_init(struct ssh_exec *x, size_t max)
{
	memset(x, 0, sizeof(*x));
	sbuf_init(&x->out, max);
	sbuf_init(&x->err, max);
	x->status = -1;
}

void
ssh_exec_release(struct ssh_exec *x)
{
	sbuf_release(&x->out);
	sbuf_release(&x->err);
}

/* Wait until the socket is ready in the directions libssh2 waits for, or keepalive time. */
static int
wait_socket(struct ssh *s)
{
	struct pollfd pf;
	int dir = libssh2_session_block_directions(s->sess), next = s->keepalive_s, rc;

	pf.fd = s->fd;
	pf.events = 0;
	if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
		pf.events |= POLLIN;
	if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
		pf.events |= POLLOUT;
	if (!pf.events)
		pf.events = POLLIN;
	do
		rc = poll(&pf, 1, next * 1000);
	while (rc < 0 && errno == EINTR);
	/* a box that answers nothing, not even TCP, fails the keepalive's send */
	rc = libssh2_keepalive_send(s->sess, &next);
	return rc == LIBSSH2_ERROR_EAGAIN ? 0 : rc;
}

static const char *
short_cmd(const char *cmd, char *buf, size_t len)
{
	size_t n = strcspn(cmd, "\n");

	if (n > 60 || cmd[n])
		snprintf(buf, len, "%.*s...", (int)(n > 60 ? 60 : n), cmd);
	else
		snprintf(buf, len, "%s", cmd);
	return buf;
}

/*
 * Read what is there of one stream: >0 read, 0 or EAGAIN nothing now (in
 * libssh2 1.10 a 0 is not the end: libssh2_channel_eof says), or an error.
 */
static int
pump(LIBSSH2_CHANNEL *ch, int stream, struct sbuf *sb, int *over)
{
	char buf[32768];
	ssize_t n = libssh2_channel_read_ex(ch, stream, buf, sizeof(buf));

	if (n > 0 && sbuf_add(sb, buf, n) < 0)
		*over = 1;
	return (int)n;
}

/* The loop of ssh_exec once the command started; returns 0 or a libssh2 error. */
static int
exec_loop(struct ssh *s, LIBSSH2_CHANNEL *ch, struct ssh_exec *x, int *over)
{
	size_t off = 0;
	int eof_sent = 0, rc, busy;

	libssh2_session_set_blocking(s->sess, 0);
	while (!*over) {
		busy = 0;
		rc = pump(ch, 0, &x->out, over);
		if (rc > 0)
			busy = 1;
		else if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN)
			return rc;
		rc = pump(ch, SSH_EXTENDED_DATA_STDERR, &x->err, over);
		if (rc > 0)
			busy = 1;
		else if (rc < 0 && rc != LIBSSH2_ERROR_EAGAIN)
			return rc;
		if (!busy && libssh2_channel_eof(ch))
			break;
		if (x->in && off < x->inlen) {
			ssize_t w = libssh2_channel_write(ch, (const char *)x->in + off, x->inlen - off);

			if (w > 0) {
				off += w;
				busy = 1;
			} else if (w != LIBSSH2_ERROR_EAGAIN) {
				/* the command closed its stdin early: read on */
				off = x->inlen;
			}
		} else if (!eof_sent) {
			rc = libssh2_channel_send_eof(ch);
			if (rc == 0)
				eof_sent = 1;
			else if (rc != LIBSSH2_ERROR_EAGAIN)
				eof_sent = 1;
		}
		if (!busy && (rc = wait_socket(s)) < 0)
			return rc;
	}
	libssh2_session_set_blocking(s->sess, 1);
	return 0;
}

int
ssh_exec(struct ssh *s, const char *cmd, struct ssh_exec *x)
{
	LIBSSH2_CHANNEL *ch;
	char *sig = NULL, what[128], sc[80];
	size_t siglen = 0;
	int rc, over = 0;

	if ((rc = alive(s)) < 0)
		return rc;
	x->status = -1;
	x->signal[0] = '\0';
	short_cmd(cmd, sc, sizeof(sc));
	snprintf(what, sizeof(what), "running '%s'", sc);
	libssh2_session_set_blocking(s->sess, 1);
	if (!(ch = libssh2_channel_open_session(s->sess)))
		return fail(s, libssh2_session_last_errno(s->sess), what);
	if ((rc = libssh2_channel_exec(ch, cmd)) != 0) {
		rc = fail(s, rc, what);
		libssh2_channel_free(ch);
		return rc;
	}
	rc = exec_loop(s, ch, x, &over);
	libssh2_session_set_blocking(s->sess, 1);
	if (rc < 0) {
		rc = fail(s, rc, what);
		libssh2_channel_free(ch);
		return rc;
	}
	if (over) {
		seterr(s, 1, "the output of '%s' passed %zu bytes", sc,
		    x->out.len + x->err.len);
		/* the channel is dropped unread; the server ends it */
		libssh2_channel_free(ch);
		return SSH_ERR;
	}
	if ((rc = libssh2_channel_close(ch)) == 0)
		rc = libssh2_channel_wait_closed(ch);
	if (rc != 0) {
		rc = fail(s, rc, what);
		libssh2_channel_free(ch);
		return rc;
	}
	x->status = libssh2_channel_get_exit_status(ch);
	libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL);
	if (sig) {
		snprintf(x->signal, sizeof(x->signal), "%.*s", (int)siglen, sig);
		libssh2_free(s->sess, sig);
		x->status = -1;
	}
	libssh2_channel_free(ch);
	if (x->signal[0]) {
		seterr(s, 1, "'%s' was killed by signal %s", sc, x->signal);
		return SSH_ESIGNAL;
	}
	return SSH_OK;
}

int
ssh_run(struct ssh *s, const char *cmd, struct sbuf *out)
{
	struct ssh_exec x;
	char sc[80];
	int rc;

	ssh_exec_init(&x, out ? out->max : SBUF_MAX_DEFAULT);
	rc = ssh_exec(s, cmd, &x);
	if (rc == SSH_OK && x.status != 0) {
		size_t n = strcspn(x.err.buf, "\n");

		seterr(s, 1, "'%s' exited %d%s%.*s", short_cmd(cmd, sc, sizeof(sc)), x.status,
		    n ? ": " : "", (int)(n > 300 ? 300 : n), x.err.buf);
		rc = SSH_ERR;
	}
	if (rc == SSH_OK && out && sbuf_add(out, x.out.buf, x.out.len) < 0) {
		seterr(s, 1, "the output of '%s' passed %zu bytes", short_cmd(cmd, sc, sizeof(sc)),
		    out->max);
		rc = SSH_ERR;
	}
	ssh_exec_release(&x);
	return rc;
}

int
ssh_quote(struct sbuf *sb, const char *s)
{
	size_t len = sb->len;
	int rc = sbuf_addc(sb, '\'');

	for (; *s && rc == 0; s++)
		rc = *s == '\'' ? sbuf_adds(sb, "'\\''") : sbuf_addc(sb, *s);
	if (rc == 0)
		rc = sbuf_addc(sb, '\'');
	if (rc < 0) {
		sb->len = len;
		sb->buf[len] = '\0';
	}
	return rc;
}

int
ssh_quote_path(struct sbuf *sb, const char *path)
{
	size_t len = sb->len;
	int rc;

	if (strcmp(path, "~") == 0)
		return sbuf_adds(sb, "\"$HOME\"");
	if (strncmp(path, "~/", 2) != 0)
		return ssh_quote(sb, path);
	rc = sbuf_adds(sb, "\"$HOME\"/");
	if (rc == 0 && path[2] && (rc = ssh_quote(sb, path + 2)) < 0) {
		sb->len = len;
		sb->buf[len] = '\0';
	}
	return rc;
}

int
ssh_spawn(struct ssh *s, const char *cmd, const char *log, long *pid)
{
	struct sbuf c, out;
	int64_t v;
	int rc;

	sbuf_init(&c, SBUF_MAX_DEFAULT);
	sbuf_init(&out, 4096);
	/* setsid where the box has it: no signal of this session reaches it */
	sbuf_adds(&c, "if command -v setsid >/dev/null 2>&1; then s=setsid; else s=; fi; "
	    "$s nohup sh -c ");
	if (ssh_quote(&c, cmd) < 0) {
		seterr(s, 1, "command too long");
		rc = SSH_EINVAL;
		goto out;
	}
	sbuf_adds(&c, " </dev/null >>");
	ssh_quote_path(&c, log);
	sbuf_adds(&c, " 2>&1 & echo $!");
	rc = ssh_run(s, c.buf, &out);
	if (rc == SSH_OK) {
		out.buf[strcspn(out.buf, "\n")] = '\0';
		if (parse_i64(out.buf, 1, INT64_MAX, &v) < 0) {
			seterr(s, 1, "starting '%.60s' printed no PID but '%.40s'", cmd, out.buf);
			rc = SSH_ERR;
		} else if (pid) {
			*pid = (long)v;
		}
	}
out:
	sbuf_release(&c);
	sbuf_release(&out);
	return rc;
}

/* ---- SFTP ---- */

/* A remote path for SFTP: "~" and "~/x" are relative to the home, where SFTP starts. */
static const char *
rpath(const char *p)
{
	if (strcmp(p, "~") == 0 || strcmp(p, "~/") == 0)
		return ".";
	if (strncmp(p, "~/", 2) == 0)
		return p + 2;
	return p;
}

static int
sftp_open(struct ssh *s)
{
	int rc;

	if ((rc = alive(s)) < 0)
		return rc;
	libssh2_session_set_blocking(s->sess, 1);
	if (s->sftp)
		return SSH_OK;
	if (!(s->sftp = libssh2_sftp_init(s->sess)))
		return fail(s, libssh2_session_last_errno(s->sess), "starting SFTP");
	return SSH_OK;
}

static const char *
fx_msg(unsigned long e)
{
	switch (e) {
	case LIBSSH2_FX_NO_SUCH_FILE: case LIBSSH2_FX_NO_SUCH_PATH: return "No such file or directory";
	case LIBSSH2_FX_PERMISSION_DENIED: return "Permission denied";
	case LIBSSH2_FX_FILE_ALREADY_EXISTS: return "File exists";
	case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM: case LIBSSH2_FX_QUOTA_EXCEEDED: return "No space left";
	case LIBSSH2_FX_FAILURE: return "failure";
	default: return "error";
	}
}

/* An SFTP call on path failed with rc: SSH_ENOENT, SSH_ELOST or SSH_ERR, with a message. */
static int
sftp_fail(struct ssh *s, int rc, const char *op, const char *path)
{
	char what[512];
	unsigned long e;

	snprintf(what, sizeof(what), "%s '%s'", op, path);
	if (rc != LIBSSH2_ERROR_SFTP_PROTOCOL)
		return fail(s, rc, what);
	e = libssh2_sftp_last_error(s->sftp);
	seterr(s, 1, "cannot %s: %s", what, fx_msg(e));
	return e == LIBSSH2_FX_NO_SUCH_FILE || e == LIBSSH2_FX_NO_SUCH_PATH ? SSH_ENOENT : SSH_ERR;
}

int
ssh_stat(struct ssh *s, const char *remote, struct ssh_stat *st)
{
	LIBSSH2_SFTP_ATTRIBUTES a;
	const char *p = rpath(remote);
	int rc;

	if ((rc = sftp_open(s)) < 0)
		return rc;
	memset(&a, 0, sizeof(a));
	rc = libssh2_sftp_stat_ex(s->sftp, p, strlen(p), LIBSSH2_SFTP_STAT, &a);
	if (rc != 0)
		return sftp_fail(s, rc, "stat", remote);
	st->size = (int64_t)a.filesize;
	st->mode = (unsigned)a.permissions;
	st->mtime = (int64_t)a.mtime;
	return SSH_OK;
}

int
ssh_mkdir_p(struct ssh *s, const char *dir, unsigned mode)
{
	struct ssh_stat st;
	char *p = xstrdup(rpath(dir)), *q;
	int rc;

	rc = ssh_stat(s, p, &st);
	if (rc == SSH_OK || rc != SSH_ENOENT)
		goto done;
	/* each missing level, the first from the root down */
	for (q = p + 1;; q++) {
		char c = *q;

		if (c != '/' && c != '\0')
			continue;
		*q = '\0';
		rc = ssh_stat(s, p, &st);
		if (rc == SSH_ENOENT) {
			rc = libssh2_sftp_mkdir_ex(s->sftp, p, strlen(p), mode);
			/* another stager may have made it meanwhile */
			if (rc != 0 && ssh_stat(s, p, &st) != SSH_OK)
				rc = sftp_fail(s, rc, "make folder", p);
			else
				rc = SSH_OK;
		}
		*q = c;
		if (rc < 0 || c == '\0')
			break;
	}
done:
	if (rc == SSH_OK && !S_ISDIR(st.mode) && ssh_stat(s, p, &st) == SSH_OK && !S_ISDIR(st.mode)) {
		seterr(s, 1, "cannot make folder '%s': a file is in the way", dir);
		rc = SSH_ERR;
	}
	free(p);
	return rc;
}

int
ssh_read(struct ssh *s, const char *remote, struct sbuf *sb)
{
	LIBSSH2_SFTP_HANDLE *f;
	const char *p = rpath(remote);
	char buf[65536];
	ssize_t n;
	int rc;

	if ((rc = sftp_open(s)) < 0)
		return rc;
	f = libssh2_sftp_open_ex(s->sftp, p, strlen(p), LIBSSH2_FXF_READ, 0, LIBSSH2_SFTP_OPENFILE);
	if (!f)
		return sftp_fail(s, libssh2_session_last_errno(s->sess), "open", remote);
	while ((n = libssh2_sftp_read(f, buf, sizeof(buf))) > 0)
		if (sbuf_add(sb, buf, n) < 0) {
			seterr(s, 1, "'%s' is larger than %zu bytes", remote, sb->max);
			libssh2_sftp_close(f);
			return SSH_ERR;
		}
	rc = n < 0 ? sftp_fail(s, (int)n, "read", remote) : SSH_OK;
	libssh2_sftp_close(f);
	return rc;
}

/* A fresh temporary name next to remote. Caller frees. */
static char *
tmp_name(const char *remote)
{
	const char *p = rpath(remote), *sl = strrchr(p, '/');
	unsigned r = 0;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (unsigned)time_now_ms();
	if (sl)
		return xasprintf("%.*s/.%s.xt-tmp-%ld-%08x", (int)(sl - p), p, sl + 1,
		    (long)getpid(), r);
	return xasprintf(".%s.xt-tmp-%ld-%08x", p, (long)getpid(), r);
}

/* Write fd's bytes (fd >= 0) or len bytes at data to the new file tmp with mode. */
static int
upload_tmp(struct ssh *s, int fd, const void *data, size_t len, const char *tmp, unsigned mode)
{
	LIBSSH2_SFTP_HANDLE *f;
	LIBSSH2_SFTP_ATTRIBUTES a;
	char *buf = NULL;
	size_t off = 0, n = 0;
	ssize_t w;
	int rc = SSH_OK;

	f = libssh2_sftp_open_ex(s->sftp, tmp, strlen(tmp),
	    LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL, mode, LIBSSH2_SFTP_OPENFILE);
	if (!f)
		return sftp_fail(s, libssh2_session_last_errno(s->sess), "create", tmp);
	if (fd >= 0)
		buf = xmalloc(1 << 20);
	for (;;) {
		if (fd >= 0 && off == n) {
			ssize_t r = read(fd, buf, 1 << 20);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				seterr(s, 1, "cannot read the local file: %s", strerror(errno));
				rc = SSH_ERR;
				break;
			}
			if (r == 0)
				break;
			off = 0;
			n = (size_t)r;
		}
		if (fd < 0 && off == len)
			break;
		w = fd >= 0 ? libssh2_sftp_write(f, buf + off, n - off) :
		    libssh2_sftp_write(f, (const char *)data + off, len - off);
		if (w < 0) {
			rc = sftp_fail(s, (int)w, "write", tmp);
			break;
		}
		off += (size_t)w;
	}
	free(buf);
	if (rc == SSH_OK) {
		/* the server's umask must not take bits off mode */
		memset(&a, 0, sizeof(a));
		a.flags = LIBSSH2_SFTP_ATTR_PERMISSIONS;
		a.permissions = mode;
		if ((w = libssh2_sftp_fsetstat(f, &a)) != 0)
			rc = sftp_fail(s, (int)w, "chmod", tmp);
	}
	if (rc == SSH_OK)
		libssh2_sftp_fsync(f);	/* fsync@openssh.com; a server without it is fine */
	if (libssh2_sftp_close(f) != 0 && rc == SSH_OK)
		rc = sftp_fail(s, libssh2_session_last_errno(s->sess), "close", tmp);
	if (rc != SSH_OK && !s->dead)
		libssh2_sftp_unlink_ex(s->sftp, tmp, strlen(tmp));
	return rc;
}

/* Rename each tmps[i] over dsts[i], in one remote command: mv -f is rename(2). */
static int
rename_over(struct ssh *s, char *const *tmps, char *const *dsts, size_t n)
{
	struct sbuf c;
	size_t i;
	int rc = SSH_OK;

	sbuf_init(&c, SBUF_MAX_DEFAULT);
	for (i = 0; i < n && rc == SSH_OK; i++) {
		sbuf_adds(&c, i ? " && mv -f -- " : "mv -f -- ");
		if (ssh_quote(&c, tmps[i]) < 0 || sbuf_addc(&c, ' ') < 0 ||
		    ssh_quote(&c, dsts[i]) < 0) {
			seterr(s, 1, "too many files to rename at once");
			rc = SSH_EINVAL;
		}
	}
	if (rc == SSH_OK && n)
		rc = ssh_run(s, c.buf, NULL);
	sbuf_release(&c);
	return rc;
}

static int
put_any(struct ssh *s, int fd, const void *data, size_t len, const char *remote, unsigned mode)
{
	char *tmp, *dst;
	int rc, r = 0;

	if ((rc = sftp_open(s)) < 0)
		return rc;
	tmp = tmp_name(remote);
	dst = xstrdup(rpath(remote));
	rc = upload_tmp(s, fd, data, len, tmp, mode);
	if (rc == SSH_OK)
		r = libssh2_sftp_rename_ex(s->sftp, tmp, strlen(tmp), dst, strlen(dst),
		    LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC |
		    LIBSSH2_SFTP_RENAME_NATIVE);
	if (rc == SSH_OK && is_lost(r)) {
		rc = fail(s, r, "renaming the upload");
	} else if (rc == SSH_OK && r != 0) {
		/* SFTP 3 does not rename over a file: the shell's mv does, atomically */
		if ((rc = rename_over(s, &tmp, &dst, 1)) != SSH_OK && !s->dead)
			libssh2_sftp_unlink_ex(s->sftp, tmp, strlen(tmp));
	}
	free(tmp);
	free(dst);
	return rc;
}

int
ssh_put(struct ssh *s, const char *local, const char *remote, unsigned mode)
{
	int fd = open(local, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0) {
		seterr(s, 1, "cannot open '%s': %s", local, strerror(errno));
		return SSH_EINVAL;
	}
	rc = put_any(s, fd, NULL, 0, remote, mode);
	close(fd);
	return rc;
}

int
ssh_put_buf(struct ssh *s, const void *data, size_t len, const char *remote, unsigned mode)
{
	return put_any(s, -1, data, len, remote, mode);
}

/* The base name of path, when it is a plain file name sha256sum prints as it is. */
static const char *
stage_name(const char *path)
{
	const char *b = strrchr(path, '/');

	b = b ? b + 1 : path;
	if (!*b || !strcmp(b, ".") || !strcmp(b, "..") || strpbrk(b, "\\\n\r"))
		return NULL;
	return b;
}

/* Which of the n names the box has with the hex hashes want: have[i] set. One command. */
static int
stage_check(struct ssh *s, const char *dir, const char *const *names, char (*want)[SHA256_HEX],
    size_t n, int *have)
{
	struct sbuf c, out;
	char *p, *nl;
	size_t i;
	int rc;

	sbuf_init(&c, SBUF_MAX_DEFAULT);
	sbuf_init(&out, 1 << 20);
	/* no sha256sum on the box: nothing matches, everything is copied */
	sbuf_adds(&c, "cd ");
	ssh_quote_path(&c, dir);
	/* the temporary files of a stager killed an hour ago or more go too */
	sbuf_adds(&c, " || exit 1; find . -maxdepth 1 -name '.*.xt-tmp-*' -mmin +60 "
	    "-exec rm -f {} + 2>/dev/null; for f in");
	for (i = 0; i < n; i++) {
		sbuf_addc(&c, ' ');
		ssh_quote(&c, names[i]);
	}
	sbuf_adds(&c, "; do [ -f \"$f\" ] && [ -x \"$f\" ] && "
	    "sha256sum -- \"$f\" 2>/dev/null; done; exit 0");
	rc = ssh_run(s, c.buf, &out);
	for (p = out.buf; rc == SSH_OK && *p; p = nl + (*nl != '\0')) {
		nl = p + strcspn(p, "\n");
		if (nl - p < 66 || (p[64] != ' ') || (p[65] != ' ' && p[65] != '*'))
			continue;
		for (i = 0; i < n; i++)
			if ((size_t)(nl - p - 66) == strlen(names[i]) &&
			    !strncmp(p + 66, names[i], nl - p - 66) && !strncmp(p, want[i], 64))
				have[i] = 1;
	}
	sbuf_release(&c);
	sbuf_release(&out);
	return rc;
}

int
ssh_stage(struct ssh *s, const char *const *local, size_t n, const char *dir, size_t *copied)
{
	char (*want)[SHA256_HEX] = xcalloc(n ? n : 1, sizeof(*want));
	const char **names = xcalloc(n ? n : 1, sizeof(*names));
	char **tmps = xcalloc(n ? n : 1, sizeof(*tmps)), **dsts = xcalloc(n ? n : 1, sizeof(*dsts));
	int *have = xcalloc(n ? n : 1, sizeof(*have)), rc = SSH_OK, fd;
	size_t i, k = 0;

	if (copied)
		*copied = 0;
	for (i = 0; i < n && rc == SSH_OK; i++) {
		if (!(names[i] = stage_name(local[i]))) {
			seterr(s, 1, "cannot stage '%s': not a plain file name", local[i]);
			rc = SSH_EINVAL;
		} else if (sha256_file(local[i], want[i], NULL) < 0) {
			seterr(s, 1, "cannot read '%s': %s", local[i], strerror(errno));
			rc = SSH_EINVAL;
		}
	}
	if (rc == SSH_OK)
		rc = ssh_mkdir_p(s, dir, 0755);
	if (rc == SSH_OK && n)
		rc = stage_check(s, dir, names, want, n, have);
	for (i = 0; i < n && rc == SSH_OK; i++) {
		char *d;

		if (have[i])
			continue;
		d = xasprintf("%s/%s", rpath(dir), names[i]);
		if ((fd = open(local[i], O_RDONLY | O_CLOEXEC)) < 0) {
			seterr(s, 1, "cannot open '%s': %s", local[i], strerror(errno));
			rc = SSH_EINVAL;
			free(d);
			break;
		}
		tmps[k] = tmp_name(d);
		dsts[k] = d;
		rc = upload_tmp(s, fd, NULL, 0, tmps[k], 0755);
		close(fd);
		if (rc != SSH_OK) {
			free(tmps[k]);
			free(dsts[k]);
			break;
		}
		k++;
	}
	if (rc == SSH_OK)
		rc = rename_over(s, tmps, dsts, k);
	if (rc == SSH_OK && copied)
		*copied = k;
	else if (rc != SSH_OK && !s->dead)
		for (i = 0; i < k; i++)
			libssh2_sftp_unlink_ex(s->sftp, tmps[i], strlen(tmps[i]));
	for (i = 0; i < k; i++) {
		free(tmps[i]);
		free(dsts[i]);
	}
	free(want);
	free(names);
	free(tmps);
	free(dsts);
	free(have);
	return rc;
}
