/* hmap.c: see hmap.h. FNV-1a hashes, linear probing, grown at 1/2 full. */
#include <stdlib.h>
#include <string.h>

#include "hmap.h"
#include "util.h"
#include "banned.h"

void
hmap_init(struct hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void
hmap_release(struct hmap *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->slot[i].key);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

static unsigned
hash(const char *k, size_t n)
{
	return fnv1a(k, n);
}

static struct hmap_slot *
find(const struct hmap *m, const char *key, size_t klen, unsigned h)
{
	size_t i = h & (m->cap - 1);

	for (;;) {
		struct hmap_slot *s = &m->slot[i];

		if (!s->key || (s->hash == h && s->klen == klen && !memcmp(s->key, key, klen)))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

static void
rehash(struct hmap *m)
{
	struct hmap_slot *old = m->slot;
	size_t i, oldcap = m->cap;

	m->cap = m->cap ? m->cap * 2 : 64;
	m->slot = xcalloc(m->cap, sizeof(*m->slot));
	for (i = 0; i < oldcap; i++)
		if (old[i].key)
			*find(m, old[i].key, old[i].klen, old[i].hash) = old[i];
	free(old);
}

size_t *
hmap_put(struct hmap *m, const char *key, size_t klen, size_t def, int *isnew)
{
	unsigned h = hash(key, klen);
	struct hmap_slot *s;

	if ((m->n + 1) * 2 > m->cap)
		rehash(m);
	s = find(m, key, klen, h);
	*isnew = !s->key;
	if (!s->key) {
		s->key = xstrndup(key, klen);
		s->klen = klen;
		s->hash = h;
		s->val = def;
		m->n++;
	}
	return &s->val;
}

size_t *
hmap_get(const struct hmap *m, const char *key, size_t klen)
{
	struct hmap_slot *s;

	if (!m->cap)
		return NULL;
	s = find(m, key, klen, hash(key, klen));
	return s->key ? &s->val : NULL;
}
