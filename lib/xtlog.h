/*
 * xtlog.h: log a run's events from a C program that runs under xt.
 *
 * xt-runq starts a run with XT_LOG naming a local file. A run appends one
 * JSON object per line to it, each line with a single write(2) on an
 * O_APPEND descriptor, so that lines from many processes and threads never
 * interleave; xt-runq tails the file, adds "time" where it is missing,
 * copies the lines into the store's log.jsonl and folds them into the run
 * record (see xt-log(1), "THE XT_LOG PROTOCOL"). This API writes such lines:
 *
 *   {"time":"2026-11-21T18:00:01.234Z","event":"metrics","step":10,"data":{"acc":0.9}}
 *
 * Every function returns 0 when the whole line was written, or -1 with
 * errno set:
 *
 *   ENOENT    XT_LOG is unset or empty: the program does not run under xt.
 *             Programs that also run outside xt may ignore this (it is
 *             cheap: the environment is read once).
 *   EINVAL    a bad argument: an empty or NULL name, an event or tag name
 *             that is not 1-128 letters, digits and "._-" (not starting
 *             with '.' or '-'), data that is not a JSON object.
 *   EMSGSIZE  the line would be longer than XTLOG_LINE_MAX bytes.
 *   other     from open(2) or write(2) (ENOSPC, EDQUOT, EACCES, ...).
 *
 * A failed call leaves no part of its line in the file (see xtlog_append).
 *
 * Names and strings are JSON-escaped; bytes that are not UTF-8 become
 * U+FFFD. Numbers are written as the shortest decimal that reads back as
 * the same double; NaN and the infinities, which JSON cannot hold, are
 * written as the strings "NaN", "Infinity" and "-Infinity", which xt reads
 * as those numbers (see xt(7), "Numbers that JSON cannot hold"). A step
 * < 0 means "no step". Formatting uses a buffer on the stack (plus the
 * heap, only for xtlog_event with large data), so the calls are safe from
 * any thread; they are not async-signal-safe.
 *
 * This file uses only libc and cJSON (for xtlog_event), and never exits or
 * prints: a program keeps control of its errors.
 */
#ifndef XT_XTLOG_H
#define XT_XTLOG_H

#include <stddef.h>

/*
 * The longest line of the protocol: 1 MiB, its newline not counted. The
 * API refuses a longer one (EMSGSIZE), xt-log too, and xt-runq records an
 * "invalid" event in its place.
 */
#define XTLOG_LINE_MAX ((size_t)1 << 20)

/*
 * Open $XT_LOG for appending (O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, mode
 * 0666 & ~umask) on the first call and keep the descriptor for all later
 * calls of this API. Returns the descriptor (do not close it; see
 * xtlog_close), or -1 with errno (ENOENT when XT_LOG is unset or empty).
 * Thread-safe. A child made by fork() shares the descriptor, which is
 * fine: O_APPEND writes still land whole.
 */
int xtlog_open(void);

/* Close the descriptor, so that the next call opens $XT_LOG again (for
 * tests, or a program that changes XT_LOG). Not safe while other threads log. */
void xtlog_close(void);

/*
 * Append buf, len bytes of whole lines (each a JSON object ending in '\n'),
 * with one write(2). The lines are not checked: this is the raw protocol.
 * len 0 writes nothing and returns 0.
 */
int xtlog_write(const char *buf, size_t len);

/*
 * Append buf (len bytes) to the file open on fd with O_APPEND in one
 * write(2), and leave no part of it there when that fails. A write that the
 * disk cuts short (ENOSPC, EDQUOT, EFBIG) is taken back: its bytes are
 * overwritten in place with spaces ending in a newline (a blank line, which
 * every reader of JSON lines skips), so that a torn line never runs into
 * the next one and the lines appended after it by others stay whole; then
 * the whole is tried again, and at last -1 is returned with the errno of
 * the write (ENOSPC when the disk kept cutting it short). Without /proc
 * the part is cut off the file instead, when nothing follows it. 0 or -1.
 */
int xtlog_append(int fd, const void *buf, size_t len);

/*
 * Make text (len bytes, one line of the protocol) valid JSON as xt stores
 * it: the bare words NaN, Infinity and -Infinity outside strings (Python's
 * json.dumps writes them) become the strings "NaN", "Infinity" and
 * "-Infinity"; inside strings, bytes that are not UTF-8, NUL bytes, the
 * escape \u0000 and unpaired surrogate escapes become U+FFFD. Anything
 * else is left for the JSON parser to judge. Returns 0 when text needs no
 * change (*out NULL), 1 with *out a new NUL-terminated text of *outlen bytes (caller
 * frees), or -1 with errno ENOMEM.
 */
int xtlog_clean(const char *text, size_t len, char **out, size_t *outlen);

/*
 * A copy of the n bytes at s with each byte that is not part of UTF-8, and
 * each NUL, replaced by U+FFFD; NUL-terminated. Caller frees; NULL with
 * errno ENOMEM.
 */
char *xtlog_utf8(const char *s, size_t n);

/* One metric: {"event":"metrics","step":step,"data":{name:value}}. */
int xtlog_metric(const char *name, double value, long step);

/* n metrics in one line: names[i] = values[i]; n >= 1. */
int xtlog_metrics(long step, size_t n, const char *const *names, const double *values);

/* A hyperparameter: {"event":"hparams","data":{name:value}}. value must not be NULL. */
int xtlog_hparam_num(const char *name, double value);
int xtlog_hparam_str(const char *name, const char *value);

/* A tag: {"event":"tags","data":{name:value}}, value NULL meaning true. */
int xtlog_tag(const char *name, const char *value);

/*
 * Any event: {"event":event,"data":DATA}. json_data is the text of a JSON
 * object (it may span lines; it is written compactly), or NULL for no data.
 * NaN, Infinity and -Infinity in it, as Python writes them, are written as
 * strings, and text that is not UTF-8 is made so (see xtlog_clean).
 */
int xtlog_event(const char *event, const char *json_data);

/*
 * Write v into buf (at least 32 bytes) as the JSON number this API writes:
 * the shortest decimal that reads back as v in nearly all cases, never
 * more than 17 digits, the strings "NaN", "Infinity" and "-Infinity" (in
 * quotes) for those values. Returns the
 * length; buf is NUL-terminated.
 */
size_t xtlog_dtoa(double v, char *buf);

#endif
