/*
 * u-mongoidx: the outbox of the MongoDB index without a database. Lines
 * appended by several processes while senders turn the pending file into
 * segments are all kept, whole, in order for each writer; a sender that
 * cannot reach the database leaves them; the backlog counts them; and no
 * message holds the password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "mongoidx.h"
#include "util.h"

#define WRITERS 4
#define LINES 200

int
main(void)
{
	char home[] = "/tmp/u-mongoidx.XXXXXX", err[1024], *cmd;
	struct mongoidx_backlog b;
	size_t sent;
	pid_t pids[WRITERS];
	int i, k, st, all = 1, rc, flushes = 0;

	if (!mkdtemp(home))
		return 1;
	setenv("XT_HOME", home, 1);
	unsetenv("XT_INDEX_PASSWORD");
	/* a host that refuses at once, and a password that must not show */
	setenv("XT_INDEX", "mongodb://u:s3cret-pw@127.0.0.1:1/xt?serverSelectionTimeoutMS=200", 1);
	CHECK(config_load(err, sizeof(err)) == 0);
	CHECK(mongoidx_url() != NULL);
	fflush(stdout);
	for (k = 0; k < WRITERS; k++) {
		if ((pids[k] = fork()) == 0) {
			for (i = 0; i < LINES; i++) {
				char line[128];
				int n = snprintf(line, sizeof(line),
				    "{\"ws\":\"ws1\",\"run\":\"run%d\",\"n\":%d}\n", k, i);

				mongoidx_outbox(line, (size_t)n);
			}
			_exit(0);
		}
	}
	/* senders meanwhile: each rotates pending.jsonl and fails to send */
	for (k = 0; k < 20; k++) {
		rc = mongoidx_flush(200, &sent, err, sizeof(err));
		flushes += rc < 0;
		if (rc < 0 && strstr(err, "s3cret-pw"))
			all = 0;
	}
	for (k = 0; k < WRITERS; k++)
		CHECK(waitpid(pids[k], &st, 0) == pids[k] && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(all);	/* no password in a message */
	rc = mongoidx_flush(200, &sent, err, sizeof(err));
	CHECK(rc == -1 && sent == 0);
	CHECK(strstr(err, "index mongodb://u@127.0.0.1:1/xt?") == err);
	CHECK(!strstr(err, "s3cret-pw"));
	CHECK(mongoidx_backlog(&b, err, sizeof(err)) == 0);
	CHECK(b.lines == WRITERS * LINES);
	CHECK(b.segments >= 1);
	/* the executor's sender thread: starts, flushes, stops; the outbox stays */
	mongoidx_sender_start(20);
	usleep(200 * 1000);
	mongoidx_sender_stop();
	CHECK(mongoidx_backlog(&b, err, sizeof(err)) == 0 && b.lines == WRITERS * LINES);
	/* every line whole, each writer's in order */
	cmd = xasprintf("cat %s/outbox/*/seg-*.jsonl %s/outbox/*/pending.jsonl 2>/dev/null |"
	    " awk -F'[\":,}]+' '{ want = ($5 in last) ? last[$5] + 1 : 0; if ($7 != want) bad++; last[$5] = $7 }"
	    " END { exit bad }'", home, home);
	CHECK(system(cmd) == 0);
	free(cmd);
	cmd = xasprintf("rm -rf %s", home);
	CHECK(system(cmd) == 0);
	free(cmd);
	config_release();
	return check_done();
}
