#!/bin/sh
# make static: every tool is a fully static, stripped x86-64 binary, under
# 4 MB; under 6 MB for the two that talk to a MongoDB index (xt-report,
# xt-runq's sender), which carry libmongoc and OpenSSL for its TLS and
# SCRAM. Prints each tool's size.
tdir=$(cd "$(dirname "$0")" && pwd)
. "$tdir/lib.sh"

src=$(dirname "$tdir")
total=0
for c in "$src"/cmd/*.c; do
	tool=$(basename "$c" .c)
	b=$XT_BIN/$tool
	t_ok "$tool is built" test -x "$b"
	[ -x "$b" ] || continue
	t_run readelf -d "$b"
	t_ok "$tool has no dynamic section" grep -q 'There is no dynamic section' "$T/out"
	t_run readelf -lW "$b"
	t_ok "$tool asks for no program interpreter" test "$rc" -eq 0 -a "$(grep -c INTERP "$T/out")" -eq 0
	t_run readelf -hSW "$b"
	t_ok "$tool is x86-64" grep -q 'Machine: *Advanced Micro Devices X86-64' "$T/out"
	t_ok "$tool is stripped" test "$rc" -eq 0 -a "$(grep -c '\.symtab' "$T/out")" -eq 0
	size=$(stat -c %s "$b")
	total=$((total + size))
	echo "# INFO size $tool: $size bytes ($((size / 1024)) KiB), stripped"
	case $tool in
	xt-report | xt-runq) t_ok "$tool is under 6 MB" test "$size" -lt 6291456 ;;
	*) t_ok "$tool is under 4 MB" test "$size" -lt 4194304 ;;
	esac
	t_run "$b" --help
	t_status 0 "$tool --help runs"
done
echo "# INFO size of all tools: $total bytes ($((total / 1024)) KiB)"
t_done
