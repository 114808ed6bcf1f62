/* guess.c: see guess.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guess.h"
#include "util.h"
#include "banned.h"

/* The Levenshtein distance of a and b; GUESS_MAX + 1 when one is longer than GUESS_MAX. */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev, d, row[GUESS_MAX + 1];

	if (la > GUESS_MAX || lb > GUESS_MAX)
		return GUESS_MAX + 1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];

			d = prev + (a[i - 1] != b[j - 1]);
			if (up + 1 < d)
				d = up + 1;
			if (row[j - 1] + 1 < d)
				d = row[j - 1] + 1;
			row[j] = d;
			prev = up;
		}
	}
	return row[lb];
}

void
guess_init(struct guess *g, const char *word)
{
	size_t n = strlen(word) / 3;

	g->word = word;
	g->best = NULL;
	g->dist = (size_t)-1;
	g->limit = n < 1 ? 1 : n > 3 ? 3 : n;
}

void
guess_try(struct guess *g, const char *cand, const char *shown)
{
	size_t d = edit_distance(g->word, cand);

	if (d <= g->limit && d < g->dist) {
		free(g->best);
		g->best = xstrdup(shown);
		g->dist = d;
	}
}

void
guess_end(struct guess *g, char *err, size_t errlen)
{
	size_t l = strlen(err);

	if (g->best && l < errlen)
		snprintf(err + l, errlen - l, "; did you mean '%s'?", g->best);
	free(g->best);
	g->best = NULL;
}
