/*
 * ssh.h: one SSH connection to one box (libssh2), for the ssh target.
 *
 * A host is named as ssh names it: "host", "user@host", "host:port",
 * "user@host:port" or "[host]:port" (IPv6). ssh_host_resolve turns that
 * name into what to connect to the way `ssh host` would, through the
 * OpenSSH client config (~/.ssh/config): Host blocks with *, ? and !
 * patterns, Include, and, first value wins per keyword, HostName, User,
 * Port, IdentityFile (every one, in order), UserKnownHostsFile,
 * StrictHostKeyChecking and ConnectTimeout. A user or port in the name
 * wins over the config. Other keywords are ignored; Match blocks are
 * skipped (but "Match all").
 *
 * A session (struct ssh) is made with ssh_new and connected with
 * ssh_connect: TCP with a connect timeout, the handshake, the host key
 * checked against known_hosts (OpenSSH's "[host]:port" form for a port
 * other than 22, hashed "|1|" entries too), then public key login: the
 * agent of SSH_AUTH_SOCK first, then the key files (the option's, the
 * config's, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa), an encrypted one
 * with the passphrase in XT_SSH_PASSPHRASE.
 *
 * Errors: every function returns SSH_OK (0) or a negative SSH_E* code and
 * leaves a message for humans in ssh_error(): it starts with the host as
 * "user@host:port: " and says what failed; it never holds a passphrase
 * or key material. Nothing here prints. A connection that drops or stops
 * answering is SSH_ELOST (TCP keepalive, SSH keepalive and a timeout on
 * every wait), never a hang.
 *
 * Remote paths are absolute, or relative to the login's home; "~" and a
 * leading "~/" mean the home too (in SFTP calls and, through
 * ssh_quote_path, in commands). One struct ssh is used by one thread at a
 * time.
 */
#ifndef XT_SSH_H
#define XT_SSH_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum {
	SSH_OK = 0,
	SSH_ERR = -1,		/* any other failure (a remote command that failed, I/O) */
	SSH_ECONNECT = -2,	/* the box cannot be reached: name, TCP, handshake */
	SSH_EHOSTKEY = -3,	/* its host key is unknown or changed */
	SSH_EAUTH = -4,		/* no key was accepted, or a key cannot be decrypted */
	SSH_ELOST = -5,		/* the connection dropped or timed out mid-operation */
	SSH_ESIGNAL = -6,	/* ssh_exec: the command was killed by a signal */
	SSH_ENOENT = -7,	/* no such remote file */
	SSH_EINVAL = -8		/* a bad host name, config file or argument */
};

/* StrictHostKeyChecking */
enum {
	SSH_STRICT_DEFAULT = 0,	/* not set: the config's, else YES */
	SSH_STRICT_YES,		/* an unknown or changed host key is refused */
	SSH_STRICT_ACCEPT_NEW,	/* an unknown host's key is appended to known_hosts; changed is refused */
	SSH_STRICT_NO		/* as ACCEPT_NEW ("no" and "off" in a config): a changed key is still refused */
};

#define SSH_ID_MAX 16

/* A resolved host. Every string is owned by it (ssh_host_release). */
struct ssh_host {
	char *name;		/* the name as given, "me@gpu2:2222" */
	char *alias;		/* its host part, the one Host patterns match */
	char *user;		/* the login */
	char *hostname;		/* what to connect to (HostName, else alias) */
	int port;
	char *identity[SSH_ID_MAX];	/* key files, ~ and %d %u %h %r %p %% expanded */
	size_t nidentity;
	char *known_hosts;	/* the known_hosts file, expanded */
	int strict;		/* SSH_STRICT_*, never DEFAULT after resolve */
	int connect_timeout;	/* seconds from ConnectTimeout, 0 when not set */
	char *label;		/* "user@hostname:port", the prefix of messages */
};

/* What the caller (the target's config) sets; zero means "the default". */
struct ssh_opts {
	const char *config;		/* client config; NULL: ~/.ssh/config (may be missing); "none": no file */
	const char *identity_file;	/* tried first, before the config's IdentityFile */
	const char *known_hosts;	/* instead of the config's UserKnownHostsFile and ~/.ssh/known_hosts */
	int strict;			/* SSH_STRICT_*: over the config's when not DEFAULT */
	int connect_timeout_ms;		/* TCP connect and handshake; default the config's ConnectTimeout, else 10 s */
	int io_timeout_ms;		/* any wait for the server; default 60 s */
	int keepalive_s;		/* SSH keepalive while a command runs; default 15 s */
};

/*
 * Resolve name (see above) into h with opts (NULL: all defaults). Returns
 * SSH_OK, or SSH_EINVAL with err (errlen bytes) set: a bad name ("bad
 * host name 'a@': no host"), or a bad line of the config file or of a
 * file it includes ("FILE:LINE: bad port '99999'"); h is then left
 * released. A missing default config is fine; a missing file named in
 * opts->config is an error. Call ssh_host_release when done.
 */
int ssh_host_resolve(const char *name, const struct ssh_opts *opts, struct ssh_host *h,
    char *err, size_t errlen);
void ssh_host_release(struct ssh_host *h);

struct ssh;

/*
 * A session for h (copied: h may be released after) with opts (copied;
 * NULL: defaults). Not connected yet. Never fails; ssh_free it.
 */
struct ssh *ssh_new(const struct ssh_host *h, const struct ssh_opts *opts);
/*
 * Connect, check the host key and log in. SSH_OK, or:
 *   SSH_ECONNECT  "me@gpu2:2222: cannot connect: Connection refused"
 *   SSH_EHOSTKEY  "Host key verification failed for [gpu2]:2222: the host key
 *                 changed (ED25519 SHA256:...)" or "...: the host key is
 *                 unknown (ED25519 SHA256:...)" with the known_hosts file;
 *                 with accept-new (or "no") an unknown key is appended to
 *                 that file in one O_APPEND write, and the login goes on
 *   SSH_EAUTH     "me@gpu2:2222: permission denied (publickey): tried agent,
 *                 key ~/.ssh/id_ed25519", or "me@gpu2:2222: cannot decrypt
 *                 key FILE: wrong passphrase"
 * A session that failed to connect can only be freed.
 */
int ssh_connect(struct ssh *s);
/* The last error's message ("" when none). Valid until the next call on s. */
const char *ssh_error(const struct ssh *s);
/* "user@host:port", as messages start. */
const char *ssh_label(const struct ssh *s);
/* Close the session (SFTP, channel, connection) and free s. s may be NULL. */
void ssh_free(struct ssh *s);
/* How many TCP connections this process has opened so far (for benchmarks). */
long ssh_connections(void);

/*
 * A command's run. Before ssh_exec: in/inlen, the bytes fed to its stdin
 * (then EOF; NULL: EOF at once), and out and err sbuf_init'ed with the
 * limits the caller wants. ssh_exec fills out, err, status and signal.
 * The caller releases out and err (ssh_exec_release).
 */
struct ssh_exec {
	const void *in;
	size_t inlen;
	struct sbuf out, err;
	int status;		/* its exit status 0..255; -1 when it had none */
	char signal[32];	/* the signal that killed it ("KILL"), "" when none */
};
/* sbuf_init out and err with max each, no stdin. */
void ssh_exec_init(struct ssh_exec *x, size_t max);
void ssh_exec_release(struct ssh_exec *x);

/*
 * Run cmd (a line for the login's shell) on the box, reading stdout and
 * stderr as they come (neither can stall the other) while stdin is fed.
 * SSH_OK when it ended with an exit status, whatever it is (x->status);
 * SSH_ESIGNAL when a signal killed it ("me@h:22: 'cmd' was killed by
 * signal KILL"); SSH_ERR when its output passed a limit (the command is
 * then left to the server, which closes the channel); SSH_ELOST when the
 * connection dropped before it ended.
 */
int ssh_exec(struct ssh *s, const char *cmd, struct ssh_exec *x);
/*
 * Run cmd with no stdin; SSH_OK only when it exits 0, its stdout appended
 * to out (NULL: dropped; bounded by out's limit), else SSH_ERR ("me@h:22:
 * 'cmd' exited 3: <its stderr's first line>") or as ssh_exec.
 */
int ssh_run(struct ssh *s, const char *cmd, struct sbuf *out);
/*
 * Start cmd detached on the box: in its own session (setsid), with
 * stdin from /dev/null and stdout and stderr appended to the remote file
 * log, so that it outlives this connection. Its PID on the box in *pid
 * (may be NULL). SSH_OK or as ssh_run.
 */
int ssh_spawn(struct ssh *s, const char *cmd, const char *log, long *pid);

/*
 * Shell quoting for commands run on the box. ssh_quote appends s as one
 * word for a POSIX shell ('...', a ' inside as '\''). ssh_quote_path does
 * the same for a remote path, except that "~" and a leading "~/" become
 * "$HOME" (so the rest stays quoted). Both return 0, or -1 when sb's limit
 * is reached (sb unchanged).
 */
int ssh_quote(struct sbuf *sb, const char *s);
int ssh_quote_path(struct sbuf *sb, const char *path);

/* SFTP. The SFTP channel is opened at the first call and kept. */
struct ssh_stat {
	int64_t size;
	unsigned mode;		/* st_mode: type and permission bits */
	int64_t mtime;		/* seconds */
};
/* Make dir and its missing parents with mode (an existing dir is fine). */
int ssh_mkdir_p(struct ssh *s, const char *dir, unsigned mode);
/* Stat remote (symbolic links followed); SSH_ENOENT when it is missing. */
int ssh_stat(struct ssh *s, const char *remote, struct ssh_stat *st);
/*
 * Read the whole remote file into sb (appended, bounded by sb's limit:
 * SSH_ERR past it). SSH_ENOENT when it is missing.
 */
int ssh_read(struct ssh *s, const char *remote, struct sbuf *sb);
/*
 * Upload the local file (ssh_put) or len bytes at data (ssh_put_buf) to
 * remote with mode, atomically: written to a temporary name in the same
 * folder, synced when the server can, then renamed over remote, so a
 * reader sees the old file or the new one, never a part. The folder must
 * exist. On failure the temporary file is removed when the server still
 * answers.
 */
int ssh_put(struct ssh *s, const char *local, const char *remote, unsigned mode);
int ssh_put_buf(struct ssh *s, const void *data, size_t len, const char *remote, unsigned mode);
/*
 * Stage n local files into the remote folder dir (made when missing),
 * each under its base name with mode 0755: a file is copied only when
 * the box lacks it or has other bytes (by SHA-256), the check of all n
 * in one remote command. Every copy is atomic as ssh_put's, so stagings
 * racing on one box leave whole files. *copied (may be NULL) gets the
 * number of files copied. SSH_OK or the first failure; a local file that
 * cannot be read is SSH_EINVAL naming it.
 */
int ssh_stage(struct ssh *s, const char *const *local, size_t n, const char *dir,
    size_t *copied);

#endif
