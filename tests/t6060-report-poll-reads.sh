#!/bin/sh
# xt-report reads the workspace's index once: with a Slurm target
# configured, the runs to poll are found in the copy the report reads, and
# the index is read again only when the poll recorded something (those
# records are then in the report); the poll reads no record of a run whose
# task Slurm has waiting. Slurm is stood in for by scripts on
# PATH (sbatch, squeue, sacct, scontrol: the answers the target parses);
# the reads are counted as strace sees the index opened for reading.
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"

if ! command -v strace >/dev/null || ! strace -f -qq -o /dev/null true 2>/dev/null; then
	echo "# SKIP strace is needed, and allowed to trace, to count the reads"
	t_done
	exit 0
fi

mkdir bin code
cat >bin/scontrol <<'S'
#!/bin/sh
echo "MaxArraySize            = 1001"
S
# sbatch: the job ids 42, 43, ... (--test-only: none)
cat >bin/sbatch <<'S'
#!/bin/sh
cat >/dev/null
for a; do [ "$a" = --test-only ] && exit 0; done
id=$(cat "$SLURM_DIR/next")
echo $((id + 1)) >"$SLURM_DIR/next"
echo "$id"
S
# squeue and sacct say what the test left in squeue.out and sacct.out
printf '#!/bin/sh\ncat "$SLURM_DIR/squeue.out"\n' >bin/squeue
printf '#!/bin/sh\ncat "$SLURM_DIR/sacct.out"\n' >bin/sacct
chmod +x bin/*
export SLURM_DIR="$T" PATH="$T/bin:$PATH"
echo 42 >next
: >squeue.out
: >sacct.out
echo true >code/train.sh
cat >xt.yaml <<'Y'
targets:
  hpc: {type: slurm, poll-interval: 1}
Y

# reads DESC N ARGS...: xt-report ARGS reads the index N times, exit 0
reads() {
	desc=$1
	n=$2
	shift 2
	t_run env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -qq -e trace=open,openat,openat2 -o "$T/trace" xt-report "$@"
	got=$(grep -c '"runs.jsonl", O_RDONLY' "$T/trace")
	t_status 0 "$desc: exit 0"
	t_ok "$desc: the index read $n times ($got)" test "$got" -eq "$n"
}

t_run xt-submit -t hpc -C code -- sh train.sh
t_status 0 "a run sent to the stood-in Slurm (array 42)"
t_run xt-submit -t hpc -C code -- sh train.sh
t_status 0 "another (array 43)"
# run1's task waits; run2's is gone, cancelled before it started
echo "42|1|PENDING||Priority|xt:" >squeue.out
echo "43_1|CANCELLED by 1000|" >sacct.out
reads "a poll that records a run" 2 -c run,status --csv
printf '%s\n' run,status run1,queued run2,cancelled >want
t_out_is want "... its record in the report"
sleep 1	# Slurm is asked once a poll-interval
reads "a poll that records nothing" 1 -c run,status --csv
t_out_is want "... the same report"
echo "42_1|CANCELLED by 1000|" >sacct.out
: >squeue.out
sleep 1
reads "the other run recorded" 2 -c run,status --csv
printf '%s\n' run,status run1,cancelled run2,cancelled >want
t_out_is want "... its record in the report"
reads "every run ended: nothing to poll" 1 -c run,status --csv
t_out_is want "... the same report"
# a poll that records, untraced, so that build-san's leak check sees it
t_run xt-submit -t hpc -C code -- sh train.sh
t_status 0 "a third run (array 44)"
echo "44_1|CANCELLED by 1000|" >sacct.out
sleep 1
t_run xt-report -c run,status --csv
printf '%s\n' run,status run1,cancelled run2,cancelled run3,cancelled >want
t_status 0 "a poll that records, untraced: exit 0"
t_out_is want "... its record in the report"
t_err_empty "... nothing on stderr"
# a poll of a big job reads the record of no run whose task Slurm has
# waiting: of 50 runs, one runs (its record is read) and 49 wait
t_run xt-submit -t hpc -C code --runs 50 -- sh train.sh
t_status 0 "a job of 50 runs (array 45)"
{
	echo "45|1|RUNNING|localhost|None|xt:"
	i=2
	while [ $i -le 50 ]; do
		echo "45|$i|PENDING||JobArrayTaskLimit|xt:"
		i=$((i + 1))
	done
} >squeue.out
sleep 1
reads "a poll of 50 runs, 49 waiting" 1 -c run,status --csv
t_ok "... the records read: the running run's alone ($(grep -c '"run.json", O_RDONLY' trace))" \
    test "$(grep -c '"run.json", O_RDONLY' "$T/trace")" -eq 1
t_ok "... every run in the report" test "$(grep -c '^run4\.[0-9]*,queued$' "$T/out")" -eq 50
reads "--no-poll" 1 --no-poll -c run
rm xt.yaml
reads "no Slurm target" 1 -c run
t_done
