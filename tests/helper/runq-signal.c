/*
 * runq-signal: a test driver of the kill protocol of lib/runexec.h, not a
 * tool. Sends SIGTERM to PID as xt-runq kill does to the executor of the
 * queue entry ENTRY (its name in the spool), with the grace period MS (-1:
 * the executor's own):
 *
 *   runq-signal PID ENTRY MS
 *
 * Exit 0 when sent, 1 when not, 2 on a bad command line.
 */
#include <signal.h>

#include "queue.h"
#include "runexec.h"
#include "util.h"

int
main(int argc, char **argv)
{
	int64_t pid, ms;

	util_setprog(argv[0]);
	if (argc != 4 || parse_i64(argv[1], 1, INT32_MAX, &pid) < 0 ||
	    parse_i64(argv[3], -1, INT32_MAX, &ms) < 0)
		die_status(2, "usage: runq-signal PID ENTRY MS");
	if (sigqueue((pid_t)pid, SIGTERM, runexec_sigval((int)ms, queue_token(argv[2]))) < 0)
		die("cannot signal %lld:", (long long)pid);
	return 0;
}
