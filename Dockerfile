# dcgen images for machines with internet access: a Debian stage builds the
# static binary (libcurl from Debian's source package, as `make` does), and a
# FROM scratch stage holds only the stripped binary and Debian's CA certificates
# (the bundle, and the same certificates as a hashed directory for SSL_CERT_DIR).
#
#   docker build -t dcgen:latest .
#   docker build --target ecr -t dcgen/ecr .      (also gcr, acr, docker, heroku, ibm)
#
# Offline, from a local build, `make image` makes the same images; that is the
# path the tests run (tests/integration/test_image.py). See docs/static-and-images.md.
ARG DEBIAN=debian:bookworm-slim

FROM ${DEBIAN} AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -qq && \
    apt-get install -y -qq --no-install-recommends build-essential cmake pkg-config dpkg-dev \
        ca-certificates libssl-dev zlib1g-dev libjansson-dev libyaml-dev >/dev/null
WORKDIR /src
COPY . .
# scripts/static-curl.sh adds a deb-src entry and fetches curl's pinned source
# (what `make deps` does); configuring then needs no network
RUN sh scripts/static-curl.sh /deps >/dev/null && \
    cmake -S . -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDCGEN_STATIC=ON \
        -DDCGEN_SANITIZE=OFF -DDCGEN_DEPS_DIR=/deps && \
    cmake --build /build --target dcgen_stripped -j"$(nproc)" && \
    /build/dcgen.stripped --version && \
    mkdir /out && cp /build/dcgen.stripped /out/dcgen && \
    ln -s dcgen /out/docker-credential-dcgen && ln -s dcgen /out/dcgen-kubelet-provider && \
    sh scripts/ca-dir.sh /etc/ssl/certs/ca-certificates.crt /certs

FROM scratch AS image
COPY --from=build /certs/ /etc/ssl/certs/
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/ /usr/bin/
ENV SSL_CERT_DIR=/etc/ssl/certs
ENTRYPOINT ["/usr/bin/dcgen"]

FROM image AS ecr
ENV DCGEN_PROVIDER=ecr
FROM image AS gcr
ENV DCGEN_PROVIDER=gcr
FROM image AS acr
ENV DCGEN_PROVIDER=acr
FROM image AS docker
ENV DCGEN_PROVIDER=docker
FROM image AS heroku
ENV DCGEN_PROVIDER=heroku
FROM image AS ibm
ENV DCGEN_PROVIDER=ibm

# the default target: dcgen:latest, no provider set (detected from the environment)
FROM image AS latest
