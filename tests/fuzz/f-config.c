/*
 * f-config.c: the YAML configuration (lib/config.c). The input is the
 * user's file ($XT_CONFIG), in a private folder that also serves as the
 * working folder while it loads (so no ./xt.yaml but the test's own). Its
 * last byte's low bit makes the file readable by others, for the
 * credential check.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "config.h"
#include "util.h"
#include "banned.h"

static char dir[] = "/tmp/xt-fuzz-config.XXXXXX";
static char file[sizeof(dir) + 16];

static void
cleanup(void)
{
	unlink(file);
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const keys[] = {
		"store", "workspace", "experiment", "target", "targets.local.max-runs",
		"targets.local.type", "a.b.c", ""
	};
	char err[512];
	int fd, cwd, i;
	char *store;

	if (!file[0]) {
		FUZZ_ASSERT(mkdtemp(dir));
		snprintf(file, sizeof(file), "%s/config.yaml", dir);
		atexit(cleanup);
		FUZZ_ASSERT(setenv("XT_CONFIG", file, 1) == 0);
		FUZZ_ASSERT(setenv("HOME", dir, 1) == 0);
		/* the file's values, not the environment's */
		unsetenv("XT_STORE");
		unsetenv("XT_WORKSPACE");
		unsetenv("XT_EXPERIMENT");
		unsetenv("XT_TARGET");
	}
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	FUZZ_ASSERT(fd >= 0);
	FUZZ_ASSERT(write(fd, data, size) == (ssize_t)size);
	FUZZ_ASSERT(fchmod(fd, size && (data[size - 1] & 1) ? 0644 : 0600) == 0);
	close(fd);
	cwd = open(".", O_RDONLY | O_DIRECTORY);
	FUZZ_ASSERT(cwd >= 0 && chdir(dir) == 0);
	err[0] = '\0';
	if (config_load(err, sizeof(err)) < 0)
		FUZZ_ASSERT(err[0] != '\0');
	FUZZ_ASSERT(fchdir(cwd) == 0);
	close(cwd);
	for (i = 0; i < (int)(sizeof(keys) / sizeof(keys[0])); i++) {
		config_str(keys[i], NULL);
		config_node(keys[i]);
		config_origin(keys[i]);
	}
	config_workspace();
	config_experiment();
	store = config_store();
	free(store);
	config_release();
	return 0;
}
