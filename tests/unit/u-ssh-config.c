/*
 * Unit tests of lib/ssh.c without a server: host names, the OpenSSH
 * client config (patterns, first value wins, tokens, Include, Match, bad
 * lines with FILE:LINE) and the shell quoting, checked by a real sh.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "ssh.h"
#include "util.h"

static char home[64];

static void
put(const char *name, const char *text)
{
	char *p = path_join(home, name);
	FILE *f = fopen(p, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		die("cannot write '%s':", p);
	free(p);
}

/* Resolve name with the config text (NULL: no config); err gets any message. */
static int
resolve(const char *name, const char *text, const struct ssh_opts *o0, struct ssh_host *h,
    char *err, size_t len)
{
	struct ssh_opts o;

	if (o0)
		o = *o0;
	else
		memset(&o, 0, sizeof(o));
	if (text) {
		put(".ssh/config", text);
		o.config = NULL;	/* the default, ~/.ssh/config */
	} else if (!o.config) {
		o.config = "none";
	}
	err[0] = '\0';
	return ssh_host_resolve(name, &o, h, err, len);
}

static int
is(const char *got, const char *want)
{
	if (got && strcmp(got, want) == 0)
		return 1;
	printf("# got '%s', want '%s'\n", got ? got : "(null)", want);
	return 0;
}

static int
has(const char *err, const char *want)
{
	if (strstr(err, want))
		return 1;
	printf("# message '%s' lacks '%s'\n", err, want);
	return 0;
}

/* What sh prints for printf %s WORD: the quoted word read back. */
static int
sh_reads(const char *word, const char *want)
{
	char *cmd = xasprintf("printf %%s %s", word);
	char buf[4096];
	int fd[2], st;
	ssize_t n = 0, r;
	pid_t pid;

	if (pipe(fd) < 0 || (pid = fork()) < 0)
		die("pipe or fork:");
	if (pid == 0) {
		dup2(fd[1], 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	while ((r = read(fd[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += r;
	buf[n] = '\0';
	close(fd[0]);
	waitpid(pid, &st, 0);
	free(cmd);
	return is(buf, want);
}

static void
test_names(void)
{
	struct ssh_host h;
	char err[512], *me;

	CHECK(resolve("gpu1", NULL, NULL, &h, err, sizeof(err)) == SSH_OK);
	me = xstrdup(h.user);
	CHECK(is(h.alias, "gpu1") && is(h.hostname, "gpu1") && h.port == 22);
	CHECK(h.nidentity == 0 && h.strict == SSH_STRICT_YES);
	CHECK(strcmp(h.known_hosts + strlen(home), "/.ssh/known_hosts") == 0);
	ssh_host_release(&h);

	CHECK(resolve("me@gpu2:2222", NULL, NULL, &h, err, sizeof(err)) == SSH_OK);
	CHECK(is(h.user, "me") && is(h.hostname, "gpu2") && h.port == 2222);
	CHECK(is(h.label, "me@gpu2:2222") && is(h.name, "me@gpu2:2222"));
	ssh_host_release(&h);

	CHECK(resolve("a@b@[::1]:2200", NULL, NULL, &h, err, sizeof(err)) == SSH_OK);
	CHECK(is(h.user, "a@b") && is(h.hostname, "::1") && h.port == 2200);
	CHECK(is(h.label, "a@b@[::1]:2200"));
	ssh_host_release(&h);

	CHECK(resolve("fe80::1", NULL, NULL, &h, err, sizeof(err)) == SSH_OK);
	CHECK(is(h.hostname, "fe80::1") && h.port == 22);
	ssh_host_release(&h);

	CHECK(resolve("a@", NULL, NULL, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(is(err, "bad host name 'a@': no host"));
	CHECK(resolve("@h", NULL, NULL, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(has(err, "no user before '@'"));
	CHECK(resolve("h:0", NULL, NULL, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(is(err, "bad host name 'h:0': bad port '0'"));
	CHECK(resolve("h:65536", NULL, NULL, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(resolve("-oProxyCommand=x", NULL, NULL, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(has(err, "starts with '-'"));
	CHECK(resolve("a b", NULL, NULL, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(resolve("[h:22", NULL, NULL, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(has(err, "expected [host]:port"));
	free(me);
}

static void
test_config(void)
{
	static const char cfg[] =
	    "# the lab\n"
	    "Host gpu? !gpu9\n"
	    "    HostName %h.lab.example\n"
	    "    User alice\n"
	    "    Port 2201\n"
	    "    IdentityFile ~/.ssh/lab_%r\n"
	    "    User carol\n"
	    "Match host foo\n"
	    "    User matched\n"
	    "Host *\n"
	    "    User bob\n"
	    "    Port 22\n"
	    "    IdentityFile %d/.ssh/id_all\n"
	    "    UserKnownHostsFile ~/kh ~/kh2\n"
	    "    StrictHostKeyChecking accept-new\n"
	    "    ForwardAgent yes\n"
	    "    ConnectTimeout=7\n"
	    "Host=gpu9\n"
	    "   HostName \"ten.example\"\n";
	struct ssh_host h;
	struct ssh_opts o;
	char err[512], *want;

	CHECK(resolve("gpu1", cfg, NULL, &h, err, sizeof(err)) == SSH_OK);
	CHECK(is(h.hostname, "gpu1.lab.example") && is(h.user, "alice") && h.port == 2201);
	CHECK(h.nidentity == 2);
	want = xasprintf("%s/.ssh/lab_alice", home);
	CHECK(h.nidentity > 0 && is(h.identity[0], want));
	free(want);
	want = xasprintf("%s/.ssh/id_all", home);
	CHECK(h.nidentity > 1 && is(h.identity[1], want));
	free(want);
	want = xasprintf("%s/kh", home);
	CHECK(is(h.known_hosts, want));
	free(want);
	CHECK(h.strict == SSH_STRICT_ACCEPT_NEW && h.connect_timeout == 7);
	CHECK(is(h.label, "alice@gpu1.lab.example:2201"));
	ssh_host_release(&h);

	/* the name's user and port win; %r is the user of the name */
	CHECK(resolve("me@GPU2:2300", cfg, NULL, &h, err, sizeof(err)) == SSH_OK);
	CHECK(is(h.user, "me") && h.port == 2300 && is(h.hostname, "GPU2.lab.example"));
	want = xasprintf("%s/.ssh/lab_me", home);
	CHECK(h.nidentity > 0 && is(h.identity[0], want));
	free(want);
	ssh_host_release(&h);

	/* a negated pattern keeps gpu9 out of the first block */
	CHECK(resolve("gpu9", cfg, NULL, &h, err, sizeof(err)) == SSH_OK);
	CHECK(is(h.user, "bob") && h.port == 22 && is(h.hostname, "ten.example"));
	CHECK(h.nidentity == 1);
	ssh_host_release(&h);

	/* the options win over the config, the identity file is tried first */
	memset(&o, 0, sizeof(o));
	o.identity_file = "~/mine";
	o.known_hosts = "/k/h";
	o.strict = SSH_STRICT_YES;
	CHECK(resolve("gpu1", cfg, &o, &h, err, sizeof(err)) == SSH_OK);
	want = xasprintf("%s/mine", home);
	CHECK(h.nidentity == 3 && is(h.identity[0], want));
	free(want);
	CHECK(is(h.known_hosts, "/k/h") && h.strict == SSH_STRICT_YES);
	ssh_host_release(&h);

	/* Include, relative to ~/.ssh, with a glob; "Match all" applies */
	mkdir(".ssh/conf.d", 0700);
	put(".ssh/conf.d/a.conf", "Host inc\n  Port 2999\n");
	CHECK(resolve("inc", "Include conf.d/*.conf\nMatch all\n  User everyone\n", NULL, &h,
	    err, sizeof(err)) == SSH_OK);
	CHECK(h.port == 2999 && is(h.user, "everyone"));
	ssh_host_release(&h);

	/* an explicit config must exist; the default may be missing */
	memset(&o, 0, sizeof(o));
	o.config = "/nonexistent/config";
	CHECK(resolve("x", NULL, &o, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(has(err, "cannot open '/nonexistent/config': No such file or directory"));
	unlink(".ssh/config");
	memset(&o, 0, sizeof(o));
	CHECK(ssh_host_resolve("x", &o, &h, err, sizeof(err)) == SSH_OK);
	ssh_host_release(&h);
}

static void
test_bad_lines(void)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "Host *\n  Port 99999\n", ".ssh/config:2: bad port '99999'" },
		{ "\n\nHost\n", ".ssh/config:3: Host needs a pattern" },
		{ "HostName \"unterminated\n", ".ssh/config:1: unterminated quote" },
		{ "Host *\nStrictHostKeyChecking maybe\n",
		  ".ssh/config:2: bad StrictHostKeyChecking 'maybe' (yes, accept-new, no, ask or off)" },
		{ "User\n", ".ssh/config:1: User needs a value" },
		{ "User a b\n", ".ssh/config:1: User takes one value, not 2" },
		{ "IdentityFile ~/.ssh/%x\n", ".ssh/config:1: IdentityFile: unknown token '%x' in '~/.ssh/%x'" },
		{ "= x\n", ".ssh/config:1: expected a keyword, not '='" },
		{ "ConnectTimeout soon\n", ".ssh/config:1: bad ConnectTimeout 'soon' (seconds)" },
		/* a bad value is an error even in a block that does not apply */
		{ "Host other\n Port x\n", ".ssh/config:2: bad port 'x'" },
	};
	struct ssh_host h;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(resolve("gpu1", bad[i].text, NULL, &h, err, sizeof(err)) == SSH_EINVAL);
		CHECK(has(err, home) && has(err, bad[i].want));
		CHECK(h.name == NULL && h.user == NULL);
	}
	/* the bad line of an included file is named by that file */
	put(".ssh/inc.conf", "# ok\nPort 0\n");
	CHECK(resolve("gpu1", "Include inc.conf\n", NULL, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(has(err, "/.ssh/inc.conf:2: bad port '0'"));
	put(".ssh/loop.conf", "Include loop.conf\n");
	CHECK(resolve("gpu1", "Include loop.conf\n", NULL, &h, err, sizeof(err)) == SSH_EINVAL);
	CHECK(has(err, "Include nested deeper than"));
}

static void
test_quote(void)
{
	struct sbuf sb;
	char *want;

	sbuf_init(&sb, 4096);
	CHECK(ssh_quote(&sb, "plain") == 0 && is(sb.buf, "'plain'"));
	sbuf_reset(&sb);
	CHECK(ssh_quote(&sb, "it's") == 0 && is(sb.buf, "'it'\\''s'"));
	CHECK(sh_reads(sb.buf, "it's"));
	sbuf_reset(&sb);
	ssh_quote(&sb, "$HOME `id` \"q\" \\ * ; & | \n ''");
	CHECK(sh_reads(sb.buf, "$HOME `id` \"q\" \\ * ; & | \n ''"));
	sbuf_reset(&sb);
	ssh_quote(&sb, "");
	CHECK(is(sb.buf, "''"));
	sbuf_reset(&sb);
	CHECK(ssh_quote_path(&sb, "~/a b/'c'") == 0);
	want = xasprintf("%s/a b/'c'", home);
	CHECK(sh_reads(sb.buf, want));
	free(want);
	sbuf_reset(&sb);
	ssh_quote_path(&sb, "~");
	CHECK(sh_reads(sb.buf, home));
	sbuf_reset(&sb);
	ssh_quote_path(&sb, "~x/$y");
	CHECK(sh_reads(sb.buf, "~x/$y"));
	sbuf_release(&sb);

	/* at the limit: -1 and the buffer unchanged */
	sbuf_init(&sb, 8);
	sbuf_adds(&sb, "ab");
	CHECK(ssh_quote(&sb, "0123456789") == -1 && is(sb.buf, "ab") && sb.len == 2);
	CHECK(ssh_quote_path(&sb, "~/0123456789") == -1 && is(sb.buf, "ab") && sb.len == 2);
	sbuf_release(&sb);
}

int
main(void)
{
	snprintf(home, sizeof(home), "/tmp/u-ssh-config.XXXXXX");
	if (!mkdtemp(home) || chdir(home) < 0 || mkdir(".ssh", 0700) < 0)
		die("cannot make a temporary home:");
	setenv("HOME", home, 1);
	test_names();
	test_config();
	test_bad_lines();
	test_quote();
	if (system("rm -rf \"$HOME\"") != 0)
		warnx("cannot remove '%s'", home);
	return check_done();
}
