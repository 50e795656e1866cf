#!/bin/sh
# deps.sh -- install what building and testing dcgen needs, if it is missing.
# Debian packages through apt-get (as root, or with sudo); moto from pip.
# The static libcurl is built later, by the build (scripts/static-curl.sh).
# Safe to run again: it installs nothing when everything is present.
set -eu

# The static build also needs dpkg-dev (apt-get source) and the static zlib;
# scripts/static-curl.sh fetches curl's source itself. openssl and
# ca-certificates: the CA bundle the images bake in, and test certificates.
PACKAGES="build-essential cmake pkg-config libcurl4-openssl-dev libssl-dev libjansson-dev
libyaml-dev libarchive-dev zlib1g-dev dpkg-dev docker-registry skopeo apache2-utils curl python3 python3-pip
openssl ca-certificates strace procps busybox-static iproute2 util-linux git"
# The image tests start a private engine (tests/integration/engine.py). Debian's
# docker.io only where no engine is installed: it conflicts with Docker's own
# packages, which serve as well.
{ command -v dockerd >/dev/null 2>&1 || [ -x /usr/sbin/dockerd ]; } || PACKAGES="$PACKAGES docker.io"
# `deps.sh bench`: also the peers make bench compares with and measures by.
[ "${1:-}" = bench ] && PACKAGES="$PACKAGES nginx-light awscli amazon-ecr-credential-helper valgrind util-linux docker-compose"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
	echo "deps: installing Debian packages:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if ! command -v moto_server >/dev/null 2>&1 || ! python3 -c 'import moto, boto3, botocore, cryptography' 2>/dev/null; then
	echo "deps: installing moto's server with pip (needs PyPI)"
	python3 -m pip install --quiet 'moto[server]' boto3 cryptography ||
		{ echo "deps: cannot install moto; run: pip install 'moto[server]'" >&2; exit 1; }
fi
