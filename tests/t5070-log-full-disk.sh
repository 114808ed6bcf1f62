#!/bin/sh
# A full disk leaves no torn line: xt-log into $XT_LOG and into the store
# (xt-log -r, the folder store's append) fail with the disk's error and
# take back what they wrote, so the next line, once there is room, is read
# whole. The disk is a small tmpfs (root only; skipped where mount is refused).
. "$(dirname "$0")/lib.sh"

disk=$T/disk
mkdir "$disk"
if ! mount -t tmpfs -o size=256k tmpfs "$disk" 2>/dev/null; then
	echo "# SKIP cannot mount a tmpfs here (not root, or no permission)"
	echo "ok 1 # SKIP no tmpfs"
	echo "1..1"
	exit 0
fi
unmount() { umount "$disk"; }
t_cleanup_hooks="unmount"

# fill: take every free byte of the disk but the page in use
fill() { head -c 400000 /dev/zero >"$disk/filler" 2>/dev/null; }
# lines FILE: its lines, each "json", "blank" or "TORN"
lines() {
	python3 -c '
import json, sys
for line in open(sys.argv[1], "rb"):
    if not line.strip():
        print("blank")
        continue
    try:
        print("json", json.loads(line)["event"])
    except ValueError:
        print("TORN")' "$1"
}
big=$(head -c 6000 /dev/zero | tr '\0' x)

export XT_LOG=$disk/log
t_run xt-log event one n=1
t_status 0 "a first line"
fill
t_run xt-log event two "s=$big"
t_status 1 "a line that does not fit: exit 1"
t_err_has "xt-log: cannot append to '$XT_LOG': No space left on device" "the disk's error"
rm "$disk/filler"
t_run xt-log event three n=3
t_status 0 "with room again, the next line"
t_run lines "$XT_LOG"
printf 'json one\nblank\njson three\n' >want
t_out_is want "\$XT_LOG: the cut line is a blank one, the next whole"
unset XT_LOG

# the store on the full disk: xt-log -r appends to log.jsonl
export XT_STORE=$disk/store
printf '{"ws":"ws1","run":"run1","status":"running"}\n' >rec.json
xt-put rec.json :ws/ws1/runs/run1/run.json >/dev/null
t_run xt-log -r run1 event one n=1
t_status 0 "xt-log -r: a first line"
cp "$XT_STORE/ws/ws1/runs/run1/run.json" rec.before
fill
t_run xt-log -r run1 event two "s=$big"
t_status 1 "a line that does not fit: exit 1"
t_err_has "cannot append to 'ws/ws1/runs/run1/log.jsonl': No space left on device" "the store's error"
t_ok "the record is as it was" cmp -s rec.before "$XT_STORE/ws/ws1/runs/run1/run.json"
rm "$disk/filler"
t_run xt-log -r run1 event three n=3
t_status 0 "with room again, the next line"
t_run lines "$XT_STORE/ws/ws1/runs/run1/log.jsonl"
t_out_is want "log.jsonl: the cut line is a blank one, the next whole"
t_done
