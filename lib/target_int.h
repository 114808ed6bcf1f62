/*
 * target_int.h: the target's backend interface, for lib/target*.c only.
 * Tools and every other module use target.h.
 *
 * target.c reads the name, type, max-runs and configuration node and
 * picks the backend; a backend's open then reads what else it needs from
 * t->conf and may keep its state in t->priv. Each op keeps the contract
 * of target.h, returns 0 or a TARGET_E* code with the message set by
 * target_fail; prepare, drain and list may be NULL. poll gets every run with
 * state TARGET_LOST and its other out fields empty, and changes those it
 * finds.
 */
#ifndef XT_TARGET_INT_H
#define XT_TARGET_INT_H

#include "target.h"
#include "util.h"

struct target_ops {
	const char *type;
	int (*open)(struct target *t, char *err, size_t errlen);
	void (*close)(struct target *t);
	int (*prepare)(struct target *t, struct store *st, cJSON *runs);
	int (*submit)(struct target *t, struct store *st, const cJSON *job, const cJSON *runs);
	int (*cancel)(struct target *t, struct store *st, const char *ws, char *const *names,
	    size_t n, int grace_ms, int *found);
	int (*poll)(struct target *t, struct store *st, const char *ws,
	    struct target_status *runs, size_t n);
	int (*drain)(struct target *t);
	int (*list)(struct target *t, struct store *st, const char *ws, target_list_fn fn,
	    void *arg);
	/* a poll costs no more than a read of a shared status cache: readers poll (target_settle) */
	int cheap_poll;
	/* a job's runs get their records when they first change (run.h: deferred records) */
	int defers_records;
};

struct target {
	const struct target_ops *ops;
	char *name, *type, *where;
	int max_runs;
	const cJSON *conf;	/* targets.NAME of the configuration (not owned) */
	char err[1024];
	void *priv;
};

/* Set t's message (printf-like); returns code. */
int target_fail(struct target *t, int code, const char *fmt, ...) PRINTF(3, 4);

/* targets.NAME.KEY when it is a string or a number (as written), else NULL. */
const char *target_conf_str(const struct target *t, const char *key);
/* A setting's place for messages: the configuration's "file:line", else targets.NAME.KEY. */
void target_conf_where(const struct target *t, const char *key, char *buf, size_t len);

/*
 * Poll (t's own poll, which settles the lost ones) the runs of ws that
 * the index has on target t, not ended, that want(rec, arg) takes: for a
 * list that finds runs the target no longer holds. 0 or a TARGET_E* code.
 */
int target_settle_index(struct target *t, struct store *st, const char *ws,
    int (*want)(const cJSON *rec, void *arg), void *arg);

/* The backends: target_local.c, target_ssh.c, target_slurm.c. */
extern const struct target_ops target_local_ops, target_ssh_ops, target_slurm_ops;

#endif
