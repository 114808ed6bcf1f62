/*
 * xt: the dispatcher. "xt put ARGS" runs xt-put ARGS, looked up first
 * beside this program and then on PATH. "xt help" lists the tools.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "version.h"
#include "banned.h"

static const struct {
	const char *name, *what;
} tools[] = {
	{ "put", "write into the store: upload files and trees, append, delete" },
	{ "get", "read from the store: download files and trees, list, cat" },
	{ "submit", "make a job and its runs and hand them to a target" },
	{ "runq", "the run queue and executor on one machine" },
	{ "log", "write and read a run's events, metrics and console" },
	{ "search", "hyperparameter search and early stopping" },
	{ "report", "query runs and jobs; tables, CSV, JSON lines, plots" },
};

static void
help(FILE *fp)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	size_t i;

	if (n > 0)
		self[n] = '\0';
	fprintf(fp, "usage: xt COMMAND [ARGS...]   (runs xt-COMMAND ARGS...)\n\ncommands:\n");
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		char *p = n > 0 ? xasprintf("%.*s/xt-%s", (int)(strrchr(self, '/') - self), self,
		    tools[i].name) : NULL;
		int here = p && access(p, X_OK) == 0;

		fprintf(fp, "  %-8s %s%s\n", tools[i].name, tools[i].what, here ? "" : " (not installed)");
		free(p);
	}
	fprintf(fp, "\n'xt help COMMAND' or 'man xt-COMMAND' for a command's help.\n");
}

/* Run xt-NAME with argv (argv[0] replaced): beside this program first, then on PATH. */
static void
run_tool(const char *name, char **argv)
{
	char self[PATH_MAX], *tool = xasprintf("xt-%s", name), *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	argv[0] = tool;
	if (n > 0) {
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		path = xasprintf("%s/%s", self, tool);
		if (access(path, X_OK) == 0)
			execv(path, argv);
		free(path);
	}
	execvp(tool, argv);
	if (errno == ENOENT)
		die_status(127, "no command '%s': 'xt help' lists them", name);
	die_status(126, "cannot run '%s':", tool);
}

int
main(int argc, char **argv)
{
	util_setprog(argv[0]);
	version_option(argc, argv);
	if (argc < 2)
		die_status(EXIT_USAGE, "usage: xt COMMAND [ARGS...]; 'xt help' lists the commands");
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (argc > 2 && argv[1][0] != '-') {
			char *a[] = { NULL, "--help", NULL };

			if (strchr(argv[2], '/'))
				die_status(EXIT_USAGE, "'%s' is not a command", argv[2]);
			run_tool(argv[2], a);
		}
		help(stdout);
		stdout_close();
		return 0;
	}
	if (strchr(argv[1], '/') || argv[1][0] == '-')
		die_status(EXIT_USAGE, "'%s' is not a command; 'xt help' lists them", argv[1]);
	run_tool(argv[1], argv + 1);
	return 127;
}
