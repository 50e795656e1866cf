#!/bin/sh
# image.sh -- build dcgen's generator images, with no network, on the engine
# that DOCKER_HOST names (or the docker CLI's default):
#
#   dcgen:latest    FROM scratch: the stripped static binary (and its links
#                   docker-credential-dcgen, dcgen-kubelet-provider), a CA bundle
#                   and the same certificates as a hashed directory (SSL_CERT_DIR)
#   dcgen/ecr, dcgen/gcr, dcgen/acr, dcgen/docker, dcgen/heroku, dcgen/ibm
#                   the same layers with DCGEN_PROVIDER set
#
#   sh scripts/image.sh [BUILD_DIR]     (make image; BUILD_DIR defaults to build)
#
# DOCKER names the client (default: docker); DCGEN_CA_BUNDLE the CA bundle to
# bake in (default: the build machine's /etc/ssl/certs/ca-certificates.crt).
# Prints each tag and the size of dcgen:latest; warns above 8 MiB.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
docker=${DOCKER:-docker}
bundle=${DCGEN_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
bin=$build/dcgen.stripped
PROVIDERS="ecr gcr acr docker heroku ibm"
# The classic builder: no BuildKit front end or base image to fetch.
DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0}
export DOCKER_BUILDKIT

die() {
	echo "image: $*" >&2
	exit 1
}

[ -f "$bin" ] || die "no '$bin'; build first (make)"
if readelf -lW "$bin" | grep -q 'program interpreter'; then
	die "'$bin' is linked dynamically and cannot run FROM scratch; build with DCGEN_STATIC=1 (make)"
fi
[ -f "$bundle" ] || die "no CA bundle '$bundle'; install ca-certificates or set DCGEN_CA_BUNDLE"
command -v "$docker" >/dev/null 2>&1 || die "no docker client '$docker'; install docker.io"

ctx=$build/image
rm -rf "$ctx"
mkdir -p "$ctx"
mkdir "$ctx/bin"
install -m 755 "$bin" "$ctx/bin/dcgen"
# the front doors' names: docker runs docker-credential-dcgen from PATH, the
# kubelet dcgen-kubelet-provider from its bin dir (argv[0] selects them)
ln -s dcgen "$ctx/bin/docker-credential-dcgen"
ln -s dcgen "$ctx/bin/dcgen-kubelet-provider"
install -m 644 "$bundle" "$ctx/ca-certificates.crt"
sh "$root/scripts/ca-dir.sh" "$bundle" "$ctx/certs"
cp "$root/docker/Dockerfile.scratch" "$ctx/Dockerfile"

# The client's chatter (a newer client deprecates the classic builder) goes to
# a log, shown when a build fails.
log=$build/image.log
"$docker" build --quiet --network none --tag dcgen:latest "$ctx" >"$log" 2>&1 || {
	cat "$log" >&2
	die "docker build failed for dcgen:latest (is an engine running? DOCKER_HOST=${DOCKER_HOST:-unset})"
}
echo "image: dcgen:latest"
for p in $PROVIDERS; do
	printf 'FROM dcgen:latest\nENV DCGEN_PROVIDER=%s\n' "$p" |
		"$docker" build --quiet --network none --tag "dcgen/$p" - >"$log" 2>&1 || {
		cat "$log" >&2
		die "docker build failed for dcgen/$p"
	}
	echo "image: dcgen/$p"
done
rm -f "$log"

size=$("$docker" image inspect --format '{{.Size}}' dcgen:latest)
mib=$(awk -v s="$size" 'BEGIN { printf "%.2f", s / 1048576 }')
echo "image: dcgen:latest is $size bytes ($mib MiB uncompressed; binary $(wc -c <"$ctx/bin/dcgen") bytes, CA bundle $(wc -c <"$ctx/ca-certificates.crt") bytes)"
if [ "$size" -gt 8388608 ]; then
	echo "image: warning: dcgen:latest is over the 8 MiB target" >&2
fi
