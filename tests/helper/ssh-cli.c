/*
 * ssh-cli: a test driver of lib/ssh.c, not a tool. One connection to HOST
 * (resolved as lib/ssh.h says), then one operation:
 *
 *   ssh-cli [-F config] [-i key] [-k known_hosts] [-a] [-t ms] HOST OP ARG...
 *     connect             print "ok"
 *     exec CMD            the command's stdout and stderr as they are; exit with its status
 *     exec-in CMD         the same with this stdin fed to it
 *     spawn LOG CMD       start CMD detached; print its PID
 *     stage DIR FILE...   print "copied N"
 *     put FILE REMOTE     upload with mode 0644
 *     read REMOTE         the remote file on stdout
 *     stat REMOTE         print "size N mode OOOO"
 *     mkdir DIR           make DIR and its parents
 *     count               after connect: print the connections opened
 *
 * -a sets accept-new. A failure of the library prints "ssh-cli: MESSAGE"
 * and exits 255 (as ssh does); a bad command line exits 2.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ssh.h"
#include "util.h"

static void
usage(void)
{
	die_status(2, "usage: ssh-cli [-F config] [-i key] [-k known_hosts] [-a] [-t ms] HOST OP ARG...");
}

static int
fail(struct ssh *s)
{
	warnx("%s", ssh_error(s));
	ssh_free(s);
	return 255;
}

int
main(int argc, char **argv)
{
	struct ssh_opts o;
	struct ssh_host h;
	struct ssh *s;
	char err[1024];
	int c, rc;

	util_setprog(argv[0]);
	memset(&o, 0, sizeof(o));
	while ((c = getopt(argc, argv, "F:i:k:at:")) != -1) {
		switch (c) {
		case 'F': o.config = optarg; break;
		case 'i': o.identity_file = optarg; break;
		case 'k': o.known_hosts = optarg; break;
		case 'a': o.strict = SSH_STRICT_ACCEPT_NEW; break;
		case 't': o.connect_timeout_ms = (int)opt_i64("-t", optarg, 1, 600000); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	if (ssh_host_resolve(argv[0], &o, &h, err, sizeof(err)) < 0)
		die_status(2, "%s", err);
	s = ssh_new(&h, &o);
	ssh_host_release(&h);
	if (ssh_connect(s) < 0)
		return fail(s);
	rc = 0;
	if (!strcmp(argv[1], "connect") && argc == 2) {
		puts("ok");
	} else if (!strcmp(argv[1], "count") && argc == 2) {
		printf("%ld\n", ssh_connections());
	} else if ((!strcmp(argv[1], "exec") || !strcmp(argv[1], "exec-in")) && argc == 3) {
		struct ssh_exec x;
		struct sbuf in;

		sbuf_init(&in, SBUF_MAX_DEFAULT);
		ssh_exec_init(&x, SBUF_MAX_DEFAULT);
		if (argv[1][4] == '-') {
			char buf[65536];
			ssize_t n;

			while ((n = read(0, buf, sizeof(buf))) > 0)
				sbuf_add(&in, buf, n);
			x.in = in.buf;
			x.inlen = in.len;
		}
		rc = ssh_exec(s, argv[2], &x);
		fwrite(x.out.buf, 1, x.out.len, stdout);
		fwrite(x.err.buf, 1, x.err.len, stderr);
		if (rc < 0) {
			ssh_exec_release(&x);
			sbuf_release(&in);
			return fail(s);
		}
		rc = x.status;
		ssh_exec_release(&x);
		sbuf_release(&in);
	} else if (!strcmp(argv[1], "spawn") && argc == 4) {
		long pid;

		if (ssh_spawn(s, argv[3], argv[2], &pid) < 0)
			return fail(s);
		printf("%ld\n", pid);
	} else if (!strcmp(argv[1], "stage") && argc >= 4) {
		size_t n;

		if (ssh_stage(s, (const char *const *)argv + 3, argc - 3, argv[2], &n) < 0)
			return fail(s);
		printf("copied %zu\n", n);
	} else if (!strcmp(argv[1], "put") && argc == 4) {
		if (ssh_put(s, argv[2], argv[3], 0644) < 0)
			return fail(s);
	} else if (!strcmp(argv[1], "read") && argc == 3) {
		struct sbuf sb;

		sbuf_init(&sb, SBUF_MAX_DEFAULT);
		if (ssh_read(s, argv[2], &sb) < 0) {
			sbuf_release(&sb);
			return fail(s);
		}
		fwrite(sb.buf, 1, sb.len, stdout);
		sbuf_release(&sb);
	} else if (!strcmp(argv[1], "stat") && argc == 3) {
		struct ssh_stat st;

		if ((rc = ssh_stat(s, argv[2], &st)) < 0) {
			if (rc == SSH_ENOENT)
				fputs("ENOENT\n", stderr);
			return fail(s);
		}
		printf("size %lld mode %04o%s\n", (long long)st.size, st.mode & 07777,
		    S_ISDIR(st.mode) ? " dir" : "");
	} else if (!strcmp(argv[1], "mkdir") && argc == 3) {
		if (ssh_mkdir_p(s, argv[2], 0755) < 0)
			return fail(s);
	} else {
		ssh_free(s);
		usage();
	}
	ssh_free(s);
	stdout_close();
	return rc;
}
