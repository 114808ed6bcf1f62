/*
 * hmap.h: a map from byte strings to numbers (open addressing), for
 * folding and grouping many records. Keys are copied.
 */
#ifndef XT_HMAP_H
#define XT_HMAP_H

#include <stddef.h>

struct hmap_slot {
	char *key;
	size_t klen;
	size_t val;
	unsigned hash;
};

struct hmap {
	struct hmap_slot *slot;
	size_t n, cap;		/* cap: a power of two */
};

void hmap_init(struct hmap *m);
void hmap_release(struct hmap *m);
/*
 * The value slot of key, made with value def when new (*isnew set to 1,
 * else 0). The pointer is valid until the next hmap_put.
 */
size_t *hmap_put(struct hmap *m, const char *key, size_t klen, size_t def, int *isnew);
/* The value of key, or NULL. */
size_t *hmap_get(const struct hmap *m, const char *key, size_t klen);

#endif
