/*
 * util.h: errors, memory, bounded buffers, numbers, time and files.
 *
 * Every tool calls util_setprog(argv[0]) first; messages are then prefixed
 * with the tool's name. A format that ends in ':' gets ": strerror(errno)"
 * appended, as sbase's eprintf does.
 *
 * Ownership: a function that returns heap memory says "caller frees"; one
 * that takes a pointer's ownership says "consumes". Allocation failure is
 * fatal everywhere (die), so no allocator returns NULL.
 */
#ifndef XT_UTIL_H
#define XT_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define PRINTF(a, b) __attribute__((format(printf, a, b)))
#define NORETURN __attribute__((noreturn))

/* Exit codes shared by all tools. */
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Set the program name used in messages (the basename of argv0). */
void util_setprog(const char *argv0);
/* The program name set by util_setprog ("xt" before that). */
const char *util_prog(void);

/* Print "prog: message" on stderr and exit(1). */
void die(const char *fmt, ...) PRINTF(1, 2) NORETURN;
/* Print "prog: message" on stderr and exit(status). */
void die_status(int status, const char *fmt, ...) PRINTF(2, 3) NORETURN;
/* Print "prog: message" on stderr and go on. */
void warnx(const char *fmt, ...) PRINTF(1, 2);
void vwarnx(const char *fmt, va_list ap) PRINTF(1, 0);

/*
 * Secrets in messages. secret_name: true when the len bytes at name name a
 * secret, in any case: they contain "password", "passwd", "secret",
 * "credential", "signature" or "connection-string" (also
 * "connectionstring", "connection_string"), or one of their words (split
 * at what is not a letter or digit, and where a lower-case letter meets an
 * upper-case one) ends in "key", "keys" or "token" (key, AccountKey,
 * api_key, access-token; not keyboard or tokenizer), starts with "sas"
 * (sas, sas_url), or is "sig" or "pwd".
 *
 * redact_into copies s into out (cap bytes, always NUL-terminated when cap
 * > 0), with the value of every NAME=VALUE whose NAME is a secret's (a
 * URL's query "sig=...", a connection string's "AccountKey=...") and the
 * password of a URL's user:password@ replaced by REDACTED; it returns the
 * length of the whole result (as snprintf does) and never allocates.
 * redact returns the same as a new string (caller frees). Every message
 * of warnx and die goes through redact_into.
 */
int secret_name(const char *name, size_t len);
size_t redact_into(const char *s, char *out, size_t cap);
char *redact(const char *s);
/* True when redact would change s: s holds a secret. */
int secret_in(const char *s);
/*
 * url without its credentials, for what xt keeps or passes on (queue
 * entries, records, a run's XT_STORE): the password of scheme://user:
 * password@ goes with its ':', the query (from '?' on) goes whole when it
 * holds a secret (a SAS: its other fields mean nothing without its sig),
 * and any other NAME=VALUE whose name is a secret's goes with its ';' or
 * '&'. Caller frees. secret_in() is false for what it returns.
 */
char *url_public(const char *url);

/*
 * Base64 (RFC 4648, with padding). base64_encode writes the encoding of
 * len bytes and a NUL into out, which holds BASE64_LEN(len) bytes, and
 * returns its length. base64_decode decodes the n characters at s into
 * out (cap bytes): the number of bytes, or -1 when s is not base64 (a
 * character outside the alphabet, bad padding, a length not a multiple
 * of 4) or out is too small.
 */
#define BASE64_LEN(len) (((len) + 2) / 3 * 4 + 1)
size_t base64_encode(const void *data, size_t len, char *out);
long base64_decode(const char *s, size_t n, unsigned char *out, size_t cap);

/* The 32-bit FNV-1a hash of the n bytes at p (names of caches, hash maps). */
uint32_t fnv1a(const void *p, size_t n);

/* Allocation that never fails (dies instead). Caller frees. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string. Caller frees. */
char *xasprintf(const char *fmt, ...) PRINTF(1, 2);

/*
 * sbuf: a growable byte buffer with a hard limit set when it is made
 * (curl's dynbuf). buf is always NUL-terminated. The add functions return
 * 0, or -1 when the limit would be passed (the buffer is then unchanged).
 */
struct sbuf {
	char *buf;
	size_t len, cap, max;
};
#define SBUF_MAX_DEFAULT ((size_t)64 << 20)
void sbuf_init(struct sbuf *sb, size_t max);
void sbuf_release(struct sbuf *sb);
void sbuf_reset(struct sbuf *sb);
int sbuf_add(struct sbuf *sb, const void *data, size_t len);
int sbuf_addc(struct sbuf *sb, char c);
int sbuf_adds(struct sbuf *sb, const char *s);
int sbuf_addf(struct sbuf *sb, const char *fmt, ...) PRINTF(2, 3);
/* Hand the buffer over; sb is left released (sbuf_init it to use it again). Caller frees the result. */
char *sbuf_detach(struct sbuf *sb, size_t *len);

/*
 * Numbers parsed whole with a range check. Return 0, or -1 when s is not a
 * number, has trailing junk, or lies outside [min, max].
 */
int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int parse_double(const char *s, double *out);
/* Parse an option's number or die with status 2, naming the option. */
int64_t opt_i64(const char *opt, const char *s, int64_t min, int64_t max);

/* Wall clock in milliseconds since the epoch. */
int64_t time_now_ms(void);
/* Monotonic clock in seconds. */
double time_mono(void);
/* Format ms since the epoch as "2026-11-21T18:00:00.000Z" into buf (>= 25). */
void time_iso(int64_t ms, char *buf, size_t len);
/* Parse that form back; returns 0 or -1. */
int time_parse_iso(const char *s, int64_t *ms);

/* Create a directory and its parents (mode 0777 & ~umask); 0 or -1 with errno. */
int mkdir_p(const char *path);
/* Write all of buf to fd, retrying on EINTR and short writes; 0 or -1. */
int write_all(int fd, const void *buf, size_t len);
/* Read a whole file into sb (bounded by sb's limit); 0 or -1 with errno (EFBIG past the limit). */
int file_read(const char *path, struct sbuf *sb);
/* Join a and b with one '/'. Caller frees. */
char *path_join(const char *a, const char *b);
/* Free the n strings of v, then v. */
void strv_free(char **v, size_t n);
/*
 * Replace the file path with len bytes of buf whole (a temporary file of
 * this process beside it, renamed over it; its folder made): readers see
 * the old file or the new one. 0, or -1 with errno (nothing left behind).
 */
int file_replace(const char *path, const void *buf, size_t len, mode_t mode);
/* The folder of this program (/proc/self/exe), or NULL. Caller frees. */
char *self_dir(void);
/*
 * True when the len digits at pid name a process that is gone (on this
 * machine). Not digits, or a process by that number (maybe one that
 * reused it): false.
 */
int pid_gone(const char *pid, size_t len);
/*
 * Remove the temporary files a killed writer left in dir: each regular
 * file whose name orphan(name, arg) says is one of a writer that is gone
 * and that has not been written for stale_ms. Names starting with '.' are
 * skipped. A folder that cannot be read is left alone.
 */
void tmp_sweep(const char *dir, int (*orphan)(const char *name, const void *arg),
    const void *arg, int64_t stale_ms);
/* The same in the folder open as dirfd (any fd of it, O_PATH too; left open). */
void tmp_sweep_at(int dirfd, int (*orphan)(const char *name, const void *arg),
    const void *arg, int64_t stale_ms);
/*
 * The home directory of xt: $XT_HOME, else $HOME/.xt. When neither is
 * set, xt_home dies saying so (never a shared folder such as /tmp/.xt)
 * and xt_home_maybe returns NULL. Caller frees.
 */
char *xt_home(void);
char *xt_home_maybe(void);

/* Flush and check stdout; die if writing failed (a full disk must not look like success). */
void stdout_close(void);

/* True when stderr is a terminal (progress is shown only then). */
int stderr_isatty(void);
/*
 * True when fd is a terminal that shows colours: a tty, TERM set and not
 * "dumb", and NO_COLOR unset or empty (no-color.org).
 */
int color_tty(int fd);

#endif
