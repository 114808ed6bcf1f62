/* gpu.c: see gpu.h. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "config.h"
#include "gpu.h"
#include "util.h"
#include "banned.h"

#define GPUS_MAX 1024

static int
id_ok(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.:_-");

	return *s && *s != '.' && *s != '-' && s[n] == '\0' && n < 128;
}

static int
add(struct gpu_pool *p, const char *id, const char *from, char *err, size_t errlen)
{
	if (!id_ok(id)) {
		snprintf(err, errlen, "%s: GPU '%s' is not a number or a name of letters, digits "
		    "and '.:_-'", from, id);
		return -1;
	}
	if (p->n == GPUS_MAX) {
		snprintf(err, errlen, "%s: more than %d GPUs", from, GPUS_MAX);
		return -1;
	}
	p->id = xrealloc(p->id, (p->n + 1) * sizeof(*p->id));
	p->id[p->n++] = xstrdup(id);
	return 0;
}

static void
add_numbers(struct gpu_pool *p, size_t n)
{
	char id[16], err[8];
	size_t i;

	for (i = 0; i < n && i < GPUS_MAX; i++) {
		snprintf(id, sizeof(id), "%zu", i);
		add(p, id, "", err, sizeof(err));
	}
}

/* On $PATH? */
static int
on_path(const char *prog)
{
	const char *path = getenv("PATH"), *s, *e;
	int found = 0;

	for (s = path; s && *s && !found; s = *e ? e + 1 : e) {
		char *f;

		e = strchr(s, ':');
		if (!e)
			e = s + strlen(s);
		f = xasprintf("%.*s/%s", (int)(e - s), s, prog);
		found = access(f, X_OK) == 0;
		free(f);
	}
	return found;
}

/* The NVIDIA GPUs of this machine, numbered. */
static void
detect(struct gpu_pool *p)
{
	DIR *d = opendir("/proc/driver/nvidia/gpus");
	struct dirent *de;
	size_t n = 0;
	FILE *fp;
	char line[512];

	if (d) {
		while ((de = readdir(d)))
			n += de->d_name[0] != '.';
		closedir(d);
	} else if (on_path("nvidia-smi") && (fp = popen("nvidia-smi -L 2>/dev/null", "r"))) {
		while (fgets(line, sizeof(line), fp))
			n += !strncmp(line, "GPU ", 4);
		pclose(fp);
	}
	add_numbers(p, n);
}

int
gpu_pool_load(struct gpu_pool *p, const char *name, char *err, size_t errlen)
{
	char key[300];
	const char *s, *from;
	const cJSON *node, *it;
	int rc = 0;

	p->id = NULL;
	p->n = 0;
	snprintf(key, sizeof(key), "targets.%s.gpus", name);
	from = config_origin(key) ? config_origin(key) : key;
	if ((s = config_str(key, NULL))) {
		/* a list in one string, as an environment variable gives it: "0,1,2" or "[0,1,2]" */
		char *copy = xstrdup(s), *tok, *save = NULL;

		for (tok = strtok_r(copy, "[], ", &save); tok && rc == 0;
		    tok = strtok_r(NULL, "[], ", &save))
			rc = add(p, tok, from, err, errlen);
		free(copy);
	} else if ((node = config_node(key))) {
		if (!cJSON_IsArray(node)) {
			snprintf(err, errlen, "%s: expected a list of GPUs", from);
			rc = -1;
		}
		cJSON_ArrayForEach(it, node) {
			char num[32];

			if (rc < 0)
				break;
			if (cJSON_IsNumber(it))
				snprintf(num, sizeof(num), "%g", it->valuedouble);
			rc = add(p, cJSON_IsNumber(it) ? num : cJSON_IsString(it) ? it->valuestring : "",
			    from, err, errlen);
		}
	} else {
		detect(p);
	}
	if (rc < 0)
		gpu_pool_release(p);
	return rc;
}

void
gpu_pool_release(struct gpu_pool *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->id[i]);
	free(p->id);
	p->id = NULL;
	p->n = 0;
}

int
gpu_take(const struct gpu_pool *p, const char *dir, int k, int *fds, char **list)
{
	struct sbuf sb;
	size_t i;
	int got = 0;

	if (k <= 0 || (size_t)k > p->n)
		return 0;
	mkdir_p(dir);
	sbuf_init(&sb, (size_t)GPUS_MAX * 130);
	for (i = 0; i < p->n && got < k; i++) {
		char *path = xasprintf("%s/%s.lock", dir, p->id[i]);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);

		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			fds[got++] = fd;
			sbuf_addf(&sb, "%s%s", got > 1 ? "," : "", p->id[i]);
		} else if (fd >= 0) {
			close(fd);
		}
		free(path);
	}
	if (got < k) {
		while (got > 0)
			close(fds[--got]);
		sbuf_release(&sb);
		return 0;
	}
	*list = sbuf_detach(&sb, NULL);
	return 1;
}
