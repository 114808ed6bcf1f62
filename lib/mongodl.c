/* mongodl.c: see mongodl.h. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef XT_MONGO_DLOPEN
#include <dlfcn.h>
#endif

#include "mongodl.h"
#include "banned.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char why[512];	/* empty once loaded */

#ifdef XT_MONGO_DLOPEN
#define MONGODL_DEFINE(f) __typeof__(mongodl_##f) mongodl_##f;
MONGODL_FNS(MONGODL_DEFINE)
#undef MONGODL_DEFINE

static const char lib[] = "libmongoc-1.0.so.0";

static int
load(void)
{
	void *h;

	/* read by the library's own initializer, which runs in dlopen */
	setenv("MONGOC_DISABLE_SHM", "1", 1);
	if (!(h = dlopen(lib, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(why, sizeof(why), "cannot load libmongoc (Debian's package libmongoc-1.0-0): %s",
		    dlerror());
		return -1;
	}
#define MONGODL_SYM(f) \
	if (!(*(void **)&mongodl_##f = dlsym(h, #f))) { \
		snprintf(why, sizeof(why), "%s has no %s", lib, #f); \
		return -1; \
	}
	MONGODL_FNS(MONGODL_SYM)
#undef MONGODL_SYM
	return 0;
}
#else
static int
load(void)
{
	return 0;
}
#endif

/* xt says itself what failed, once */
static void
log_quiet(mongoc_log_level_t level, const char *domain, const char *msg, void *arg)
{
	(void)level, (void)domain, (void)msg, (void)arg;
}

static void
load_once(void)
{
	if (load() < 0)
		return;
	mongoc_init();
	mongoc_log_set_handler(log_quiet, NULL);
	atexit(mongoc_cleanup);
}

int
mongodl_load(char *err, size_t errlen)
{
	pthread_once(&once, load_once);
	if (why[0]) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	return 0;
}
