#!/bin/sh
# A tree with odd names, an empty file, a 200 MB file and 5,000 small
# files goes in with xt-put and comes back with xt-get byte for byte, on a
# folder store and on az:// (tests/stores.sh).
R=$(cd "$(dirname "$0")/.." && pwd)
. "$R/tests/lib.sh"
. "$R/tests/stores.sh"

src=$T/src
mkdir -p "$src/sub dir/deeper" "$src/many" "$src/-dash"
printf 'spaces\n' >"$src/sub dir/a file.txt"
uname=$(printf 'na\303\257ve \342\230\203.txt')
printf 'unicode\n' >"$src/sub dir/deeper/$uname"
printf 'dash\n' >"$src/-dash/-leading"
: >"$src/empty"
printf 'tab\tin\nlines\n' >"$src/.hidden"
head -c 200000000 /dev/urandom >"$src/big.bin"
i=0
while [ $i -lt 5000 ]; do
	echo "file $i" >"$src/many/f$i"
	i=$((i + 1))
done
nfiles=$(find "$src" -type f | wc -l)

pass() {
t_run xt-put "$src" @data/tree
t_status 0 "put a tree of $nfiles files"
t_ok "one JSON line per file" [ "$(grep -c '"action":"uploaded"' "$T/out")" -eq "$nfiles" ]
t_ok "the big file's hash is reported" grep -q "\"path\":\"shares/data/tree/big.bin\",\"size\":200000000,\"sha256\":\"$(sha256sum "$src/big.bin" | cut -d' ' -f1)\"" "$T/out"
t_err_empty "put says nothing on stderr"

t_run xt-get @data/tree "$T/back.$store"
t_status 0 "get the tree back"
t_ok "one JSON line per downloaded file" [ "$(grep -c '"action":"downloaded"' "$T/out")" -eq "$nfiles" ]
t_ok "the tree comes back byte for byte" diff -r "$src" "$T/back.$store"
t_ok "the big file is identical" cmp -s "$src/big.bin" "$T/back.$store/big.bin"
t_ok "the empty file is empty" test -f "$T/back.$store/empty" -a ! -s "$T/back.$store/empty"

t_run xt-get -c "@data/tree/sub dir/deeper/$uname"
t_status 0 "cat a unicode name"
printf 'unicode\n' >"$T/want"
t_out_is "$T/want" "cat prints the content"

t_run xt-get -c @data/tree/big.bin
t_status 0 "cat the big file"
t_ok "cat streams all 200 MB" cmp -s "$src/big.bin" "$T/out"

t_run xt-get @data/tree/-dash/-leading "$T/one.$store"
t_status 0 "get one object with a leading dash"
t_ok "it is a copy" cmp -s "$src/-dash/-leading" "$T/one.$store"

t_run xt-get -l @data/tree
t_status 0 "list a folder"
cat >"$T/want" <<EOF2
{"path":"shares/data/tree/-dash/","dir":true}
{"path":"shares/data/tree/.hidden","size":13,"modified":"X"}
{"path":"shares/data/tree/big.bin","size":200000000,"modified":"X"}
{"path":"shares/data/tree/empty","size":0,"modified":"X"}
{"path":"shares/data/tree/many/","dir":true}
{"path":"shares/data/tree/sub dir/","dir":true}
EOF2
sed 's/"modified":"[^"]*"/"modified":"X"/' "$T/out" >"$T/out2" && mv "$T/out2" "$T/out"
t_out_is "$T/want" "the listing is sorted, with folders"

t_run xt-get -l -r @data/tree/many
t_ok "a recursive list has every small file" [ "$(wc -l <"$T/out")" -eq 5000 ]

# a single file to an exact name, and to a folder
printf 'x\n' >"$T/x.txt"
t_run xt-put "$T/x.txt" @data/exact.txt
t_status 0 "put one file to a name"
t_run xt-put "$T/x.txt" "$T/empty-not" @data/dir/ 
t_status 1 "a missing source fails"
t_run xt-get -l @data/dir
t_ok "and nothing of that command was stored" [ ! -s "$T/out" ]
t_run xt-put "$T/x.txt" @data/dir/
t_status 0 "put to a folder keeps the name"
t_run xt-get -c @data/dir/x.txt
t_out_is "$T/x.txt" "the file is under the folder"
rm -rf "$T/back.$store"
}

t_stores pass
t_done
