#!/bin/sh
# static-curl.sh -- build a minimal static libcurl (HTTP(S) over TCP or a unix
# socket, OpenSSL backend) from Debian's curl source package, pinned to one
# version, for the static dcgen binary.
#
#   sh scripts/static-curl.sh [DEPS_DIR]          fetch and build if needed
#   sh scripts/static-curl.sh --check [DEPS_DIR]  no side effects: exit 0 and
#                                                 print the prefix when built
#
# DEPS_DIR defaults to .deps in the repository. Installs into DEPS_DIR/curl
# (lib/libcurl.a, include/curl/) and prints that prefix as the last line of
# stdout. The stamp DEPS_DIR/curl/.dcgen-stamp names the source version, the
# configure flags and the compiler flags: change any (a Debian security update
# is a one-line change of CURL_DEB_VERSION below) and the next `make deps`
# rebuilds; otherwise nothing is rebuilt. Concurrent builds wait on a lock.
# `make deps` runs it (scripts/deps.sh); CMake only runs --check.
# Needs root (or sudo) once: it adds a deb-src entry in its own file under
# /etc/apt/sources.list.d/ next to the machine's Debian entries, runs apt-get
# update, and installs dpkg-dev and the -dev packages libcurl links with.
# Everything downloaded or built stays in DEPS_DIR, which git ignores.
set -eu

# The one place the curl source version is named: Debian 12's current
# security release (`apt-cache showsrc curl`). The build fetches exactly this.
CURL_DEB_VERSION=7.88.1-10+deb12u15

check=false
if [ "${1:-}" = --check ]; then
	check=true
	shift
fi
root=$(cd "$(dirname "$0")/.." && pwd)
deps=${1:-$root/.deps}
case $deps in /*) ;; *) deps=$PWD/$deps ;; esac
prefix=$deps/curl

# Every protocol and optional library but HTTP(S), OpenSSL and zlib is off:
# less code, a smaller binary, and no surprise runtime file lookups.
FLAGS="--disable-shared --enable-static --with-openssl --with-zlib
--with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --without-ca-path
--enable-http --enable-proxy --enable-ipv6 --enable-threaded-resolver
--disable-ftp --disable-file --disable-ldap --disable-ldaps --disable-rtsp --disable-dict
--disable-telnet --disable-tftp --disable-pop3 --disable-imap --disable-smb --disable-smtp
--disable-gopher --disable-mqtt --disable-manual --disable-libcurl-option --disable-ntlm
--disable-ntlm-wb --disable-cookies
--disable-alt-svc --disable-hsts --disable-netrc --disable-doh --disable-mime
--disable-socketpair --disable-tls-srp --disable-progress-meter
--disable-dependency-tracking --enable-symbol-hiding --without-libssh2 --without-libssh
--without-wolfssh --without-nghttp2 --without-nghttp3 --without-ngtcp2 --without-quiche
--without-msh3 --without-hyper --without-libpsl --without-libidn2 --without-winidn
--without-brotli --without-zstd --without-librtmp --without-gssapi --without-libgsasl
--without-ca-fallback"
# Reproducible: no build path in the objects (debug info, __FILE__) and
# deterministic archives (ar D); curl embeds no build date.
CFLAGS_CURL="-O2 -g -ffunction-sections -fdata-sections"
want="curl $CURL_DEB_VERSION $(printf '%s\n%s\n' "$FLAGS" "$CFLAGS_CURL" | cksum | cut -d' ' -f1)"

built() {
	[ -f "$prefix/lib/libcurl.a" ] && [ -f "$prefix/.dcgen-stamp" ] &&
		[ "$(cat "$prefix/.dcgen-stamp")" = "$want" ]
}

if built; then
	echo "$prefix"
	exit 0
fi
if $check; then
	if [ -f "$prefix/.dcgen-stamp" ]; then
		echo "static-curl: $prefix holds $(cat "$prefix/.dcgen-stamp"), not $want" >&2
	else
		echo "static-curl: no static libcurl in $prefix" >&2
	fi
	exit 1
fi

mkdir -p "$deps"
exec 9>"$deps/.curl.lock"
flock 9 # another build dir may be building it right now
if built; then
	echo "$prefix"
	exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

need=""
for p in dpkg-dev libssl-dev zlib1g-dev; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
done

# Source entries for the Debian suites this machine already uses, in files of
# their own: the machine's own sources files are not touched.
if ! grep -Eqs '^deb-src[[:space:]]|^Types:.*deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources; then
	tmp=$(mktemp)
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; ORS = "\n\n" }
		     /(^|\n)Types:[^\n]*deb/ && /(^|\n)URIs:[^\n]*\/debian/ && !/(^|\n)Enabled:[[:space:]]*no/ {
		         sub(/(^|\n)Types:[^\n]*/, "\nTypes: deb-src"); sub(/^\n/, ""); print }' "$f"
	done | grep -v '^#' >"$tmp" || true
	if [ -s "$tmp" ]; then
		echo "static-curl: adding Debian source entries in /etc/apt/sources.list.d/dcgen-deb-src.sources" >&2
		$SUDO cp "$tmp" /etc/apt/sources.list.d/dcgen-deb-src.sources
		$SUDO chmod 644 /etc/apt/sources.list.d/dcgen-deb-src.sources
	fi
	cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" && /\/debian/ { $1 = "deb-src"; print }' >"$tmp" || true
	if [ -s "$tmp" ]; then
		echo "static-curl: adding Debian source entries in /etc/apt/sources.list.d/dcgen-deb-src.list" >&2
		$SUDO cp "$tmp" /etc/apt/sources.list.d/dcgen-deb-src.list
		$SUDO chmod 644 /etc/apt/sources.list.d/dcgen-deb-src.list
	fi
	rm -f "$tmp"
fi
if ! apt-cache showsrc curl 2>/dev/null | grep -q '^Package: curl'; then
	echo "static-curl: apt-get update (source indexes)" >&2
	$SUDO apt-get update -qq
fi
if [ -n "$need" ]; then
	echo "static-curl: installing$need" >&2
	$SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

src=$deps/curl-src
rm -rf "$src" "$prefix"
mkdir -p "$src"
echo "static-curl: fetching Debian's curl source package $CURL_DEB_VERSION into $src" >&2
(cd "$src" && apt-get source -qq "curl=$CURL_DEB_VERSION" >apt-source.log 2>&1) || {
	cat "$src/apt-source.log" >&2
	echo "static-curl: 'apt-get source curl=$CURL_DEB_VERSION' failed; versions the archive serves:" \
		"$(apt-cache showsrc curl 2>/dev/null | sed -n 's/^Version: //p' | tr '\n' ' ')" >&2
	echo "static-curl: a deb-src entry for Debian is needed; after a Debian security update," \
		"set CURL_DEB_VERSION in scripts/static-curl.sh to the new version" >&2
	exit 1
}
dir=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name 'curl-*' | head -1)
[ -n "$dir" ] || { echo "static-curl: no curl-* source folder in $src" >&2; exit 1; }

echo "static-curl: building $(basename "$dir") (about a minute; log in $src/build.log)" >&2
(
	cd "$dir"
	# Debian's patches may touch configure.ac and Makefile.am; the generated
	# files in the release tarball are what we build, so autotools must not run.
	find . -name configure -o -name Makefile.in -o -name aclocal.m4 -o -name curl_config.h.in |
		xargs touch
	# shellcheck disable=SC2086
	./configure --prefix="$prefix" $FLAGS \
		CFLAGS="$CFLAGS_CURL -ffile-prefix-map=$dir=curl-$CURL_DEB_VERSION" \
		AR_FLAGS=crD ACLOCAL=true AUTOMAKE=true AUTOCONF=true AUTOHEADER=true
	make -j"$(nproc)" -C lib
	make -C lib install
	make -C include install
	install -D -m 644 libcurl.pc "$prefix/lib/pkgconfig/libcurl.pc"
) >"$src/build.log" 2>&1 || {
	tail -40 "$src/build.log" >&2
	echo "static-curl: building libcurl failed; full log in $src/build.log" >&2
	exit 1
}
echo "$want" >"$prefix/.dcgen-stamp"
echo "static-curl: libcurl $(sed -n 's/^#define LIBCURL_VERSION "\(.*\)"/\1/p' "$prefix/include/curl/curlver.h") in $prefix" >&2
echo "$prefix"
