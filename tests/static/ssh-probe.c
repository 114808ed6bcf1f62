/*
 * ssh-probe: log in to an SSH server with libssh2 as the static build
 * links it, by public key only, run one command and print what it wrote.
 *
 *   ssh-probe HOST PORT USER KEY KNOWN_HOSTS COMMAND
 *
 * KEY is a private key file (its public half is derived from it). The
 * server's host key must be in KNOWN_HOSTS, as "[HOST]:PORT TYPE KEY".
 * Prints "hostkey: TYPE", "auth: publickey ok", the command's standard
 * output as "out: LINE" lines and "exit: N"; exit 0 when all of that
 * worked, 1 (with a line saying what failed) when not.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libssh2.h>

static LIBSSH2_SESSION *s;

static int
fail(const char *what)
{
	char *msg = NULL;

	if (s)
		libssh2_session_last_error(s, &msg, NULL, 0);
	printf("%s: %s\n", what, msg ? msg : "failed");
	return 1;
}

static int
dial(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
	int fd = -1;

	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -1;
	for (a = ai; a; a = a->ai_next) {
		if ((fd = socket(a->ai_family, a->ai_socktype, 0)) < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

/* the host key against KNOWN_HOSTS; prints its type */
static int
hostkey_known(const char *host, int port, const char *file)
{
	LIBSSH2_KNOWNHOSTS *kh;
	const char *key;
	size_t len;
	int type, r, bit;

	if (!(key = libssh2_session_hostkey(s, &len, &type)))
		return fail("hostkey");
	printf("hostkey: %s\n", type == LIBSSH2_HOSTKEY_TYPE_ED25519 ? "ssh-ed25519" :
	    "another type");
	bit = type == LIBSSH2_HOSTKEY_TYPE_ED25519 ? LIBSSH2_KNOWNHOST_KEY_ED25519 :
	    LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	if (!(kh = libssh2_knownhost_init(s)))
		return fail("hostkey");
	if (libssh2_knownhost_readfile(kh, file, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0) {
		libssh2_knownhost_free(kh);
		return fail("known_hosts");
	}
	r = libssh2_knownhost_checkp(kh, host, port, key, len,
	    LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | bit, NULL);
	libssh2_knownhost_free(kh);
	if (r == LIBSSH2_KNOWNHOST_CHECK_MATCH)
		return 0;
	printf("hostkey: %s\n", r == LIBSSH2_KNOWNHOST_CHECK_MISMATCH ? "mismatch" :
	    "not in known_hosts");
	return 1;
}

static int
run(const char *cmd)
{
	LIBSSH2_CHANNEL *ch;
	char buf[4096], line[4096];
	size_t ll = 0;
	ssize_t n, i;
	int st;

	if (!(ch = libssh2_channel_open_session(s)))
		return fail("channel");
	if (libssh2_channel_exec(ch, cmd) != 0)
		return fail("exec");
	while ((n = libssh2_channel_read(ch, buf, sizeof(buf))) > 0) {
		for (i = 0; i < n; i++) {
			if (buf[i] == '\n' || ll == sizeof(line) - 1) {
				printf("out: %.*s\n", (int)ll, line);
				ll = 0;
			}
			if (buf[i] != '\n')
				line[ll++] = buf[i];
		}
	}
	if (ll)
		printf("out: %.*s\n", (int)ll, line);
	if (n < 0)
		return fail("read");
	libssh2_channel_close(ch);
	libssh2_channel_wait_closed(ch);
	st = libssh2_channel_get_exit_status(ch);
	printf("exit: %d\n", st);
	libssh2_channel_free(ch);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *methods;
	int fd, ret;

	if (argc != 7) {
		fprintf(stderr, "usage: ssh-probe HOST PORT USER KEY KNOWN_HOSTS COMMAND\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (libssh2_init(0) != 0 || !(s = libssh2_session_init()))
		return fail("init");
	if ((fd = dial(argv[1], argv[2])) < 0)
		return fail("connect");
	/* libssh2 1.10 would pick ECDSA first; this server has ed25519 only */
	libssh2_session_method_pref(s, LIBSSH2_METHOD_HOSTKEY, "ssh-ed25519");
	if (libssh2_session_handshake(s, fd) != 0)
		return fail("handshake");
	if (hostkey_known(argv[1], (int)strtol(argv[2], NULL, 10), argv[5]))
		return 1;
	methods = libssh2_userauth_list(s, argv[3], strlen(argv[3]));
	printf("methods: %s\n", methods ? methods : "(none)");
	if (libssh2_userauth_publickey_fromfile(s, argv[3], NULL, argv[4], NULL) != 0)
		return fail("auth: publickey refused");
	printf("auth: publickey ok\n");
	ret = run(argv[6]);
	libssh2_session_disconnect(s, "done");
	libssh2_session_free(s);
	close(fd);
	libssh2_exit();
	return ret;
}
