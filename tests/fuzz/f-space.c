/*
 * f-space.c: search spaces (lib/space.c). An input starting with '-' is
 * "name=spec" operands, one a line, as xt-submit and xt-search take them;
 * any other is an hp-config YAML file. A space that loads is then used as
 * a search uses it: each hparam's view, samples, values and their
 * encoding back, and points of the grid.
 */
#include <math.h>

#include "fuzz.h"
#include "space.h"
#include "banned.h"

static void
use(const struct space *sp)
{
	struct rng r;
	struct hp_dim d;
	cJSON *v;
	uint64_t n, i;
	double x, y;
	int k;

	rng_seed(&r, 1);
	for (k = 0; k < sp->n; k++) {
		const struct hparam *h = &sp->hp[k];

		hparam_dim(h, &d);
		if (d.ncat > 0)
			FUZZ_ASSERT(h->nvalues == d.ncat);
		x = hparam_sample(h, &r);
		v = hparam_value(h, x);
		FUZZ_ASSERT(v);
		hparam_encode(h, v, &y);
		cJSON_Delete(v);
		if (d.bounded && isfinite(d.lo) && isfinite(d.hi)) {
			cJSON_Delete(hparam_value(h, d.lo));
			cJSON_Delete(hparam_value(h, d.hi));
		}
	}
	cJSON_Delete(space_sample(sp, &r));
	n = space_grid_size(sp);
	for (i = 0; i < n && i < 4; i++)
		cJSON_Delete(space_grid_point(sp, i, &r));
	if (n > 4)
		cJSON_Delete(space_grid_point(sp, n - 1, &r));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size), *line, *end;
	char err[512];
	struct space sp;
	int rc = 0;

	space_init(&sp);
	err[0] = '\0';
	if (size && data[0] == '-') {
		for (line = s + 1; rc == 0 && line; line = end ? end + 1 : NULL) {
			if ((end = strchr(line, '\n')))
				*end = '\0';
			rc = space_add_arg(&sp, line, err, sizeof(err));
		}
	} else {
		rc = space_load_text(&sp, "hp.yaml", (const char *)data, size, err, sizeof(err));
	}
	if (rc == 0)
		use(&sp);
	else
		FUZZ_ASSERT(err[0] != '\0');
	space_release(&sp);
	free(s);
	return 0;
}
