/*
 * guess.h: "did you mean" for a name that is not there: the closest of
 * the candidates offered, by edit distance (Levenshtein), within a third
 * of the name's length (1 to 3 edits). Names longer than GUESS_MAX bytes
 * are never close.
 */
#ifndef XT_GUESS_H
#define XT_GUESS_H

#include <stddef.h>

#define GUESS_MAX 256

struct guess {
	const char *word;	/* the name not found (not owned) */
	char *best;		/* what to suggest so far, or NULL (owned) */
	size_t dist, limit;
};

/* Start guessing for word, which must outlive g. */
void guess_init(struct guess *g, const char *word);
/* Consider cand; shown is what to suggest for it (copied). */
void guess_try(struct guess *g, const char *cand, const char *shown);
/* Append "; did you mean 'X'?" to err when g has a guess, and release g. */
void guess_end(struct guess *g, char *err, size_t errlen);

#endif
