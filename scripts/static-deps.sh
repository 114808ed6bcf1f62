#!/usr/bin/env bash
# Build the libraries of the static xt tools from Debian's source packages
# with musl, into a cache outside the tree, and print the prefix.
#
#   scripts/static-deps.sh            build what is missing; print PREFIX
#   scripts/static-deps.sh --key      print the cache key only
#
# PREFIX is $XT_STATIC_CACHE/<key> (XT_STATIC_CACHE defaults to
# ${XDG_CACHE_HOME:-~/.cache}/xt-static). The key is a hash of the source
# versions, the build functions below (flags included, comments not), the
# curl patch and the toolchain's versions: change any of them and a new
# prefix is built; otherwise the cached one is used as is. Sources stay in
# $XT_STATIC_CACHE/src, logs in PREFIX/logs; build trees are removed.
#
# Libraries: BearSSL, libyaml, cJSON, OpenSSL 3 (for libssh2: ed25519 keys
# and curve25519; for libmongoc: TLS and SCRAM), libssh2, libcurl (TLS by
# BearSSL, patched, see patch_curl), mongo-c-driver (libmongoc, libbson).
# Needs: scripts/deps.sh static, and deb-src entries for apt (added here
# when apt has none).
set -euo pipefail

# Debian 12 source versions. When a version is no longer downloadable the
# newest one that is is used instead, and said so (PREFIX/VERSIONS has what
# was built).
SOURCES=(
	bearssl=0.6+dfsg.1-3
	libyaml=0.2.5-1
	cjson=1.7.15-1+deb12u4
	openssl=3.0.20-1~deb12u2
	libssh2=1.10.0-3+deb12u1
	curl=7.88.1-10+deb12u15
	mongo-c-driver=1.23.1-1+deb12u3
)

CC=musl-gcc
OPT="-O2 -ffunction-sections -fdata-sections"
JOBS=${JOBS:-$(nproc)}
CACHE=${XT_STATIC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/xt-static}

say() { printf 'static-deps: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

# ------------------------------------------------------------- build steps
# Each runs in a subshell with its output in PREFIX/logs/NAME.log; $S is the
# unpacked source, $B a fresh build folder, $P the prefix.

cmake_build() {
	cmake -S "$S" -B "$B" -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$OPT" \
		-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$P" \
		-DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_PREFIX_PATH="$P" \
		-DCMAKE_FIND_ROOT_PATH="$P" -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY \
		-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY \
		-DCMAKE_FIND_ROOT_PATH_MODE_PACKAGE=ONLY -DBUILD_SHARED_LIBS=OFF "$@"
	cmake --build "$B" -j"$JOBS"
	cmake --install "$B"
}

build_bearssl() {
	# its own Makefile; the static library only
	make -C "$S" -j"$JOBS" lib CONF=Unix BUILD="$B" CC="$CC" AR=ar \
		CFLAGS="-W -Wall $OPT"
	install -m644 "$B/libbearssl.a" "$P/lib/"
	install -m644 "$S"/inc/*.h "$P/include/"
}

build_libyaml() {
	# the Debian tarball is a git snapshot without ./configure
	cmake_build -DBUILD_TESTING=OFF -DINSTALL_CMAKE_DIR=lib/cmake/yaml
}

build_cjson() {
	cmake_build -DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF
}

build_openssl() {
	# musl-gcc hides /usr/include; OpenSSL alone wants the kernel's UAPI
	# headers, given through a folder of links to just those.
	mkdir -p "$B/khdr"
	ln -s /usr/include/linux /usr/include/asm-generic "$B/khdr/"
	ln -s /usr/include/x86_64-linux-gnu/asm "$B/khdr/asm"
	cd "$B"
	"$S/Configure" linux-x86_64 CC="$CC" CFLAGS="$OPT -isystem $B/khdr" \
		--prefix="$P" --libdir=lib --openssldir=/etc/ssl \
		no-shared no-module no-dso no-engine no-afalgeng no-tests \
		no-legacy no-ui-console
	make -j"$JOBS" build_libs
	make install_dev
}

build_libssh2() {
	cmake_build -DCRYPTO_BACKEND=OpenSSL -DOPENSSL_ROOT_DIR="$P" \
		-DOPENSSL_USE_STATIC_LIBS=TRUE -DENABLE_ZLIB_COMPRESSION=OFF \
		-DBUILD_EXAMPLES=OFF -DBUILD_TESTING=OFF
}

build_curl() {
	patch_curl
	cd "$B"
	# No CA bundle or path is compiled in: lib/ca.c finds one at run time.
	"$S/configure" CC="$CC" CFLAGS="$OPT" CPPFLAGS="-I$P/include" \
		LDFLAGS="-L$P/lib" --prefix="$P" --libdir="$P/lib" \
		--disable-shared --enable-static --with-bearssl="$P" \
		--without-ca-bundle --without-ca-path --without-ca-fallback \
		--enable-threaded-resolver --enable-ipv6 --disable-manual \
		--disable-ldap --disable-ldaps --disable-rtsp --disable-dict \
		--disable-telnet --disable-tftp --disable-pop3 --disable-imap \
		--disable-smtp --disable-gopher --disable-mqtt --disable-smb \
		--without-libpsl --without-libidn2 --without-nghttp2 \
		--without-nghttp3 --without-ngtcp2 --without-quiche \
		--without-brotli --without-zstd --without-zlib --without-librtmp \
		--without-libssh2 --without-libssh --without-libgsasl
	make -j"$JOBS" -C lib
	make -C lib install
	make -C include install
	make install-pkgconfigDATA install-binSCRIPTS
}

build_mongo_c_driver() {
	# BUILD_VERSION: the tarball has no .git to read it from. Debian
	# strips the bundled zlib, so no wire compression. 1.23 also installs
	# shared libraries; the *-static-1.0 ones are linked.
	cmake_build -DBUILD_VERSION="${VERSION%%-*}" -DMONGO_USE_LLD=OFF \
		-DMONGO_USE_CCACHE=OFF -DENABLE_STATIC=ON -DENABLE_SSL=OPENSSL \
		-DOPENSSL_ROOT_DIR="$P" -DOPENSSL_USE_STATIC_LIBS=TRUE \
		-DENABLE_SASL=OFF -DENABLE_SNAPPY=OFF -DENABLE_ZSTD=OFF \
		-DENABLE_ZLIB=OFF -DENABLE_ICU=OFF -DENABLE_SHM_COUNTERS=OFF \
		-DENABLE_SRV=ON -DENABLE_CLIENT_SIDE_ENCRYPTION=OFF \
		-DENABLE_MONGODB_AWS_AUTH=OFF -DENABLE_TESTS=OFF \
		-DENABLE_EXAMPLES=OFF -DENABLE_UNINSTALL=OFF \
		-DENABLE_MAN_PAGES=OFF -DENABLE_HTML_DOCS=OFF \
		-DENABLE_AUTOMATIC_INIT_AND_CLEANUP=OFF
}

# curl 7.88's BearSSL backend leaves connecting_state at ssl_connect_2
# while the handshake waits, so Curl_ssl_get_select_socks() offers no
# socket and the multi loop sleeps its whole timeout (about 1 s) for each
# handshake round trip. Say which way the engine waits, as curl 8.3 does.
# tests/t9030 prints the handshake time.
CURL_PATCH='--- a/lib/vtls/bearssl.c
+++ b/lib/vtls/bearssl.c
@@ -826,8 +826,14 @@
   DEBUGASSERT(backend);
 
   ret = bearssl_run_until(cf, data, BR_SSL_SENDAPP | BR_SSL_RECVAPP);
-  if(ret == CURLE_AGAIN)
+  if(ret == CURLE_AGAIN) {
+    /* xt: poll the direction the engine waits in, or the multi loop
+       sleeps its timeout for each handshake round trip */
+    unsigned st = br_ssl_engine_current_state(&backend->ctx.eng);
+    connssl->connecting_state = (st & BR_SSL_SENDREC) ?
+      ssl_connect_2_writing : ssl_connect_2_reading;
     return CURLE_OK;
+  }
   if(ret == CURLE_OK) {
     if(br_ssl_engine_current_state(&backend->ctx.eng) == BR_SSL_CLOSED) {
       failf(data, "SSL: connection closed during handshake");
'

patch_curl() {
	# the unpacked source is kept between builds: patch it once
	printf '%s' "$CURL_PATCH" | patch -d "$S" -p1 -R --dry-run -s >/dev/null 2>&1 ||
		printf '%s' "$CURL_PATCH" | patch -d "$S" -p1
}

STEPS=(bearssl libyaml cjson openssl libssh2 curl mongo-c-driver)

# --------------------------------------------------------------- sources

# apt needs deb-src entries to fetch source packages.
ensure_deb_src() {
	apt-cache showsrc bearssl 2>/dev/null | grep -q '^Package:' && return 0
	local f=/etc/apt/sources.list.d/xt-deb-src.sources sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	say "adding deb-src entries in $f"
	$sudo tee "$f" >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	$sudo apt-get update -qq >/dev/null
}

# unpack PKG VERSION DIR: download with apt (which checks the files
# against the signed Sources index) and unpack with Debian's patches.
# Some uploads lack their .dsc on the mirror while the tarballs are there:
# then unpack those and apply debian/patches/series by hand.
unpack() {
	local pkg=$1 v=$2 dir=$3 orig= deb= f p opt
	(cd "$CACHE/src" && apt-get -q source --download-only "$pkg=$v") || true
	if [ -f "$CACHE/src/${pkg}_$v.dsc" ]; then
		dpkg-source -x "$CACHE/src/${pkg}_$v.dsc" "$dir" && return 0
	fi
	for f in "$CACHE/src/${pkg}_${v%-*}".orig.tar.*; do
		case $f in *.asc) ;; *) [ -f "$f" ] && orig=$f ;; esac
	done
	for f in "$CACHE/src/${pkg}_$v".debian.tar.*; do [ -f "$f" ] && deb=$f; done
	[ -n "$orig" ] && [ -n "$deb" ] || return 1
	rm -rf "$dir"
	mkdir -p "$dir"
	tar xf "$orig" -C "$dir" --strip-components=1
	tar xf "$deb" -C "$dir"
	[ -f "$dir/debian/patches/series" ] || return 0
	while read -r p opt; do
		case $p in '' | '#'*) continue ;; esac
		patch -d "$dir" "${opt:--p1}" -s -N <"$dir/debian/patches/$p" || return 1
	done <"$dir/debian/patches/series"
}

# source PKG WANTED: the unpacked source folder; sets VERSION.
source_dir() {
	local pkg=$1 want=$2 v dir
	for v in "$want" $(apt-cache showsrc "$pkg" | awk '/^Version:/ { print $2 }' | sort -rVu); do
		dir=$CACHE/src/${pkg}_$v
		if [ ! -f "$dir/.xt-unpacked" ]; then
			rm -rf "$dir"
			if ! unpack "$pkg" "$v" "$dir" >>"$LOGS/fetch-$pkg.log" 2>&1; then
				rm -rf "$dir"
				say "$pkg=$v cannot be downloaded, trying another version"
				continue
			fi
			touch "$dir/.xt-unpacked"
		fi
		[ "$v" = "$want" ] || say "$pkg: using $v instead of $want"
		VERSION=$v
		S=$dir
		return 0
	done
	fail "cannot fetch the source of $pkg"
}

# ------------------------------------------------------------------ main

toolchain() {
	"$CC" -v 2>&1 | tail -n 1
	dpkg-query -W -f='${Package} ${Version}\n' musl-dev cmake 2>/dev/null || true
}

key() {
	{
		printf '%s\n' "${SOURCES[@]}" "$OPT" "$CURL_PATCH"
		declare -f cmake_build patch_curl $(printf 'build_%s ' "${STEPS[@]//-/_}")
		toolchain
	} | sha256sum | cut -c1-16
}

command -v "$CC" >/dev/null || fail "$CC not found: run scripts/deps.sh static"
if [ "${1:-}" = --key ]; then
	key
	exit 0
fi

P=$CACHE/$(key)
if [ -f "$P/.done" ]; then
	echo "$P"
	exit 0
fi
mkdir -p "$CACHE/src"
exec 9>"$CACHE/.lock"
flock 9
if [ -f "$P/.done" ]; then	# built by another process while we waited
	echo "$P"
	exit 0
fi
LOGS=$P/logs
mkdir -p "$P/lib" "$P/include" "$LOGS" "$P/.stamps"
export PKG_CONFIG_LIBDIR=$P/lib/pkgconfig PKG_CONFIG_PATH=
ensure_deb_src
t_all=$(date +%s)
for name in "${STEPS[@]}"; do
	[ -f "$P/.stamps/$name" ] && continue
	want=
	for s in "${SOURCES[@]}"; do [ "${s%%=*}" = "$name" ] && want=${s#*=}; done
	source_dir "$name" "$want"
	B=$CACHE/build-$(basename "$P")/$name
	rm -rf "$B"
	mkdir -p "$B"
	say "building $name $VERSION"
	t0=$(date +%s)
	# in the background, so that set -e holds inside (it does not in the
	# condition of an if)
	(set -e; "build_${name//-/_}") >"$LOGS/$name.log" 2>&1 &
	if ! wait $!; then
		tail -n 25 "$LOGS/$name.log" >&2
		fail "$name failed; the log is $LOGS/$name.log"
	fi
	echo "$name=$VERSION $(($(date +%s) - t0))s" >"$P/.stamps/$name"
	rm -rf "$B"
done
rm -rf "$CACHE/build-$(basename "$P")"
cat "$P"/.stamps/* >"$P/VERSIONS"
toolchain >>"$P/VERSIONS"
touch "$P/.done"
# what failed builds left (complete prefixes stay: other trees may use them)
for d in "$CACHE"/*; do
	case $d in "$CACHE/src") continue ;; esac
	[ -f "$d/.done" ] || rm -rf "$d"
done
say "built in $(($(date +%s) - t_all)) s: $P"
echo "$P"
