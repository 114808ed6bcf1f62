/* logpump.c: see logpump.h. */
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "logpump.h"
#include "run.h"
#include "xtlog.h"
#include "banned.h"

void
logpump_init(struct logpump *lp, struct store *st, const char *ws, const char *run)
{
	memset(lp, 0, sizeof(*lp));
	lp->st = st;
	lp->path = run_path(ws, run, "log.jsonl");
	lp->flush_at = LOGPUMP_CHUNK;
	sbuf_init(&lp->part, XTLOG_LINE_MAX);
	/* room for what is kept, plus one line over it before it is dropped */
	sbuf_init(&lp->batch, LOGPUMP_KEEP + 4 * XTLOG_LINE_MAX);
}

void
logpump_release(struct logpump *lp)
{
	sbuf_release(&lp->part);
	sbuf_release(&lp->batch);
	free(lp->path);
}

/* Count the lines of the batch as lost, because of why. */
static void
lose_batch(struct logpump *lp, const char *why)
{
	const char *p = lp->batch.buf, *e = p + lp->batch.len;

	while (p < e && (p = memchr(p, '\n', (size_t)(e - p)))) {
		lp->lost_lines++;
		p++;
	}
	lp->lost_bytes += (int64_t)lp->batch.len;
	snprintf(lp->lost_why, sizeof(lp->lost_why), "%s", why);
	sbuf_reset(&lp->batch);
}

/* Queue one line (with its newline), appending first when the batch is full. */
static void
queue(struct logpump *lp, const char *s, size_t len)
{
	/* while the store fails, try again each LOGPUMP_CHUNK, not each line */
	if (lp->batch.len && lp->batch.len + len > lp->flush_at && logpump_flush(lp) < 0)
		lp->flush_at = lp->batch.len + LOGPUMP_CHUNK;
	if (lp->batch.len + len > LOGPUMP_KEEP)
		lose_batch(lp, lp->err);
	if (sbuf_add(&lp->batch, s, len) < 0) {
		/* cannot be: a line is at most a few times XTLOG_LINE_MAX */
		lp->lost_lines++;
		lp->lost_bytes += (int64_t)len;
	}
}

/* An "invalid" event in place of a line: why, its size when over the limit (else < 0), its first bytes. */
static void
invalid(struct logpump *lp, const char *why, int64_t bytes, const char *line, size_t len)
{
	cJSON *d = cJSON_CreateObject();
	char *head = xtlog_utf8(line, len < LOGPUMP_HEAD ? len : LOGPUMP_HEAD), *s;
	size_t n;

	if (!head)
		die("out of memory");
	json_set_str(d, "error", why);
	if (bytes >= 0)
		json_set_num(d, "bytes", (double)bytes);
	json_set_str(d, "line", head);
	free(head);
	s = run_event_line("invalid", -1, d, &n);
	queue(lp, s, n);
	free(s);
}

/*
 * A line that is not valid may be a torn one: the start of a line that a
 * writer could not finish (a full disk cut its write short) and that has
 * no newline, run into a whole line written after it. Find that line: the
 * first '{"' past the start from which the rest is a valid line (checked,
 * in *o), trying at most 16 places. NULL when there is none.
 */
static const char *
torn(const char *line, size_t len, cJSON **o)
{
	const char *p = line + 1, *e = line + len;
	char err[256];
	int tries;

	for (tries = 0; tries < 16 && p < e && (p = memmem(p, (size_t)(e - p), "{\"", 2)); tries++) {
		if ((*o = run_check_line(p, (size_t)(e - p), err, sizeof(err))))
			return p;
		p++;
	}
	return NULL;
}

/* A line (without its newline): checked, folded into rec, queued. 1, or 0 for a blank line. */
static int
take(struct logpump *lp, cJSON *rec, const char *line, size_t len)
{
	char err[256];
	size_t n;
	cJSON *o;
	char *s;

	for (n = 0; n < len && (line[n] == ' ' || line[n] == '\t' || line[n] == '\r'); n++)
		;
	if (n == len)
		return 0;
	if (!(o = run_check_line(line, len, err, sizeof(err)))) {
		const char *rest = torn(line, len, &o);

		if (!rest) {
			invalid(lp, err, -1, line, len);
			return 1;
		}
		/* the torn start is reported, the whole line after it taken */
		invalid(lp, "torn line: no newline before the next line", -1, line,
		    (size_t)(rest - line));
	}
	/* stored, it may be longer: the time added, U+FFFD for stray bytes (3 times at most) */
	s = json_line(o, &n);
	run_fold(rec, o);
	queue(lp, s, n);
	free(s);
	cJSON_Delete(o);
	return 1;
}

static void
head_add(struct logpump *lp, const char *p, size_t n)
{
	size_t k = sizeof(lp->head) - lp->headlen;

	k = n < k ? n : k;
	if (k)
		memcpy(lp->head + lp->headlen, p, k);
	lp->headlen += k;
}

/* The line over the limit has ended, after lp->skip bytes. */
static void
too_long(struct logpump *lp)
{
	char why[128];

	snprintf(why, sizeof(why), "line of %lld bytes is over the limit of 1 MiB",
	    (long long)lp->skip);
	invalid(lp, why, lp->skip, lp->head, lp->headlen);
	lp->skip = 0;
	lp->headlen = 0;
}

long
logpump_feed(struct logpump *lp, cJSON *rec, const char *buf, size_t n)
{
	long taken = 0;
	const char *nl;
	size_t k;

	while (n > 0) {
		nl = memchr(buf, '\n', n);
		k = nl ? (size_t)(nl - buf) : n;
		if (lp->skip) {
			/* inside a line over the limit: drop its bytes as they come */
			lp->skip += (int64_t)k;
			if (!nl)
				break;
			too_long(lp);
			taken++;
		} else if (lp->part.len + k > XTLOG_LINE_MAX) {
			head_add(lp, lp->part.buf, lp->part.len);
			head_add(lp, buf, k);
			lp->skip = (int64_t)(lp->part.len + k);
			sbuf_reset(&lp->part);
			if (!nl)
				break;
			too_long(lp);
			taken++;
		} else if (!nl) {
			sbuf_add(&lp->part, buf, k);
			break;
		} else if (lp->part.len) {
			sbuf_add(&lp->part, buf, k);
			taken += take(lp, rec, lp->part.buf, lp->part.len);
			sbuf_reset(&lp->part);
		} else {
			/* a whole line in this read: no copy */
			taken += take(lp, rec, buf, k);
		}
		buf += k + 1;
		n -= k + 1;
	}
	return taken;
}

long
logpump_end(struct logpump *lp, cJSON *rec)
{
	if (lp->skip || lp->part.len)
		return logpump_feed(lp, rec, "\n", 1);
	return 0;
}

/* Append len bytes at s; 0 or -1 with lp->err set. */
static int
append(struct logpump *lp, const char *s, size_t len)
{
	if (store_append(lp->st, lp->path, s, len) == 0) {
		lp->failing = 0;
		lp->flush_at = LOGPUMP_CHUNK;
		return 0;
	}
	snprintf(lp->err, sizeof(lp->err), "%s", store_error(lp->st));
	return lp->failing++ ? -2 : -1;
}

int
logpump_flush(struct logpump *lp)
{
	int rc;

	if (lp->lost_lines) {
		cJSON *d = cJSON_CreateObject();
		char why[640], *s;
		size_t n;

		snprintf(why, sizeof(why), "%ld line%s (%lld bytes) lost: %s", lp->lost_lines,
		    lp->lost_lines == 1 ? "" : "s", (long long)lp->lost_bytes, lp->lost_why);
		json_set_str(d, "error", why);
		json_set_num(d, "lines", (double)lp->lost_lines);
		json_set_num(d, "bytes", (double)lp->lost_bytes);
		s = run_event_line("error", -1, d, &n);
		rc = append(lp, s, n);
		free(s);
		if (rc < 0)
			return rc;
		lp->lost_lines = 0;
		lp->lost_bytes = 0;
	}
	if (!lp->batch.len)
		return 0;
	if ((rc = append(lp, lp->batch.buf, lp->batch.len)) < 0)
		return rc;
	sbuf_reset(&lp->batch);
	return 0;
}
