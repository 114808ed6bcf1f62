/* index.c: see index.h. */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "index.h"
#include "jscan.h"
#include "json.h"
#include "mongoidx.h"
#include "run.h"
#include "banned.h"

static unsigned long appended;

int
index_append(struct store *st, const char *ws, const char *line, size_t len)
{
	char *rel = run_index_path(ws);
	int rc = store_append(st, rel, line, len);

	free(rel);
	if (rc == 0) {
		appended++;
		mongoidx_outbox(line, len);	/* the shared index's copy, sent later */
	}
	return rc;
}

unsigned long
index_appended(void)
{
	return appended;
}

#define BACK_CHUNK ((int64_t)64 << 10)

/* What index_last_status has found so far of its run. */
struct last {
	const char *ws, *run, *want;	/* want: "run":"RUN", to skip other lines fast */
	int64_t rev;		/* the rev that ends the search */
	int64_t best;		/* the highest rev found, -1 before any line */
	char *status;
	size_t len;
};

/* Search buf[0..len) line by line from its end for run's lines: 1 when lt is done. */
static int
last_in(const char *buf, size_t len, struct last *lt)
{
	size_t end = len, start;

	while (end > 0) {
		start = end - 1;
		while (start > 0 && buf[start - 1] != '\n')
			start--;
		if (memmem(buf + start, end - start, lt->want, strlen(lt->want))) {
			cJSON *o = cJSON_ParseWithLength(buf + start, end - start);
			const char *w = json_str(o, "ws"), *r = json_str(o, "run");
			const char *s = json_str(o, "status");
			int64_t rev = run_rev(o);

			/* read backwards: a line of the same rev is earlier, so older */
			if (w && r && !strcmp(w, lt->ws) && !strcmp(r, lt->run) && rev > lt->best) {
				snprintf(lt->status, lt->len, "%s", s ? s : "");
				lt->best = rev;
			}
			cJSON_Delete(o);
			if (lt->best >= lt->rev)
				return 1;
		}
		end = start;
	}
	return 0;
}

int
index_last_status(struct store *st, const char *ws, const char *run, int64_t rev,
    char *status, size_t len)
{
	char *path = run_index_path(ws), *want = xasprintf("\"run\":\"%s\"", run);
	struct last lt = { ws, run, want, rev, -1, status, len };
	struct store_stat sst;
	struct sbuf chunk, carry;
	int64_t end, off;
	int rc;

	status[0] = '\0';
	sbuf_init(&chunk, (size_t)64 << 20);
	sbuf_init(&carry, (size_t)64 << 20);
	rc = store_stat(st, path, &sst);
	if (rc == STORE_ENOENT)
		rc = 0;
	for (end = rc == 0 ? sst.size : 0; end > 0; end = off) {
		const char *nl;
		size_t start;

		off = end > BACK_CHUNK ? end - BACK_CHUNK : 0;
		if ((rc = store_get(st, path, off, end - off, &chunk)) < 0)
			break;
		if (sbuf_add(&chunk, carry.buf, carry.len) < 0) {
			rc = store_fail(st, STORE_ERR, "'%s': a line longer than 64 MB", path);
			break;
		}
		/* the chunk's first line may have begun in the chunk before */
		nl = off > 0 ? memchr(chunk.buf, '\n', chunk.len) : NULL;
		start = nl ? (size_t)(nl - chunk.buf) + 1 : off > 0 ? chunk.len : 0;
		if (last_in(chunk.buf + start, chunk.len - start, &lt))
			break;
		sbuf_reset(&carry);
		sbuf_add(&carry, chunk.buf, start);
	}
	sbuf_release(&chunk);
	sbuf_release(&carry);
	free(want);
	free(path);
	return rc;
}

int
index_fold(const char *buf, size_t len, const char *name, struct index_line **out,
    size_t *n, size_t *nlines, char *err, size_t errlen)
{
	struct jfields f;
	struct jv *v = NULL;
	size_t cap = 0, wsid, runid, revid, i, nl = 0, pos;
	struct index_line *all = NULL;
	size_t nall = 0, capall = 0;
	struct hmap m;
	const char *p = buf, *end = buf + len;
	char key[600];
	long lineno = 0;
	int rc = 0;

	jfields_init(&f);
	wsid = jfields_add(&f, "ws");
	runid = jfields_add(&f, "run");
	revid = jfields_add(&f, "rev");
	hmap_init(&m);
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		size_t l = e ? (size_t)(e - p) : (size_t)(end - p), kl;
		int isnew;
		size_t *slot;

		lineno++;
		if (strspn(p, " \t\r") >= l) {
			p += l + 1;
			continue;
		}
		nl++;
		if (jscan(&f, p, l, &v, &cap, &pos) < 0) {
			snprintf(err, errlen, "%s:%ld:%zu: not a JSON object", name, lineno, pos + 1);
			rc = -1;
			break;
		}
		if (v[runid].type != JV_STR || v[runid].len > 256 ||
		    (v[wsid].type == JV_STR && v[wsid].len > 256)) {
			snprintf(err, errlen, "%s:%ld: a run record needs \"run\"", name, lineno);
			rc = -1;
			break;
		}
		kl = v[wsid].type == JV_STR ? v[wsid].len : 0;
		memcpy(key, v[wsid].s, kl);
		key[kl++] = '\0';
		memcpy(key + kl, v[runid].s, v[runid].len);
		kl += v[runid].len;
		if (nall == capall) {
			capall = capall * 2 + 256;
			all = xrealloc(all, capall * sizeof(*all));
		}
		all[nall].off = (size_t)(p - buf);
		all[nall].len = l;
		all[nall].lineno = lineno;
		all[nall].rev = v[revid].type == JV_NUM ? run_rev_value(v[revid].num) : 0;
		slot = hmap_put(&m, key, kl, nall, &isnew);
		/* the run's line of the highest rev; of equal ones, the last */
		if (isnew || all[nall].rev >= all[*slot].rev)
			*slot = nall;
		nall++;
		p += l + 1;
	}
	if (rc == 0) {
		/* keep the lines that are the latest of their run, in file order */
		size_t k = 0;

		for (i = 0; i < m.cap; i++)
			if (m.slot[i].key)
				all[m.slot[i].val].lineno = -all[m.slot[i].val].lineno;
		for (i = 0; i < nall; i++)
			if (all[i].lineno < 0) {
				all[k] = all[i];
				all[k++].lineno = -all[i].lineno;
			}
		*out = all;
		*n = k;
		*nlines = nl;
	} else {
		free(all);
	}
	hmap_release(&m);
	free(v);
	jfields_release(&f);
	return rc;
}

int
index_grown(size_t nlines, size_t nruns)
{
	return nlines >= 2 * nruns && nlines - nruns >= INDEX_SLACK;
}

/*
 * One compaction of the index path, read with its version into sb: the
 * latest line of each run put back by a conditional put. 1 when it was
 * rewritten, 0 when the index is gone, STORE_ECONFLICT when an append (or
 * another compaction) came in since it was read, -1 with err set.
 */
static int
compact_once(struct store *st, const char *path, struct sbuf *sb, struct sbuf *outb, char *err,
    size_t errlen)
{
	struct index_line *keep = NULL;
	char ver[STORE_VER_MAX];
	size_t n = 0, nl, i, whole;
	int rc;

	if ((rc = store_get_ver(st, path, sb, ver)) < 0) {
		if (rc == STORE_ENOENT)
			return 0;
		snprintf(err, errlen, "%s", store_error(st));
		return -1;
	}
	/* a last line without its '\n' may be an append in flight: kept as it is, after the rest */
	for (whole = sb->len; whole > 0 && sb->buf[whole - 1] != '\n'; whole--)
		;
	if (index_fold(sb->buf, whole, path, &keep, &n, &nl, err, errlen) < 0)
		return -1;
	sbuf_reset(outb);
	for (i = 0, rc = 0; i < n && rc == 0; i++)
		rc = sbuf_add(outb, sb->buf + keep[i].off, keep[i].len) < 0 ||
		    sbuf_addc(outb, '\n') < 0 ? -1 : 0;
	if (rc == 0)
		rc = sbuf_add(outb, sb->buf + whole, sb->len - whole);
	free(keep);
	if (rc < 0) {
		snprintf(err, errlen, "'%s' is too large to compact", path);
		return -1;
	}
	rc = store_put_log_if(st, path, outb->buf, outb->len, ver);
	if (rc == STORE_ECONFLICT)
		return rc;
	if (rc == STORE_ENOENT)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "cannot rewrite '%s': %s", path, store_error(st));
		return -1;
	}
	return 1;
}

int
index_compact(struct store *st, const char *ws, char *err, size_t errlen)
{
	char *path = run_index_path(ws);
	struct sbuf sb, outb;
	int tries, rc = STORE_ECONFLICT;

	sbuf_init(&sb, (size_t)4 << 30);
	sbuf_init(&outb, (size_t)4 << 30);
	for (tries = 0; tries < INDEX_TRIES && rc == STORE_ECONFLICT; tries++)
		rc = compact_once(st, path, &sb, &outb, err, errlen);
	/* appends kept coming: the index stays as it is, whole, for another time */
	if (rc == STORE_ECONFLICT)
		rc = 0;
	sbuf_release(&sb);
	sbuf_release(&outb);
	free(path);
	return rc;
}
