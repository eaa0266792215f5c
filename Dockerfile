# syntax=docker/dockerfile:1
#
# trafficgen as a static binary on an empty image.
#
#   docker build -t trafficgen:0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#
# No ENTRYPOINT, and CMD runs the self-contained demo. That makes both Kubernetes forms work:
#   kubectl create job demo --image=IMG                       -> CMD: `trafficgen demo`, a run
#                                                                against its own built-in server
#   kubectl create job tg --image=IMG -- trafficgen --rate 150 --duration 10m URL
#                                                             -> the args replace CMD
# An ENTRYPOINT of trafficgen would turn the second form into `trafficgen trafficgen ...`.
#
# One recipe for users and CI. The `build` stage leaves the image's whole file tree in /out; the
# final stage copies exactly that. CI (.ci/check-image.sh) builds this same file with buildah,
# replacing the `build` stage by a directory of the same layout holding the binary CI has just
# built and tested (`--build-context build=DIR`), and then runs the image.

FROM rust:1-bookworm AS build
# Static glibc, built exactly as .ci/check-static.sh builds the binary CI tests, not musl: the
# musl target needs musl-tools for ring's C and assembly, which CI does not have, so a musl
# image would ship a binary no test ever ran. Static glibc's usual caveat (NSS lookups need the
# host's shared libraries) does not apply: trafficgen resolves names itself from
# /etc/resolv.conf and /etc/hosts. The Rust image already has glibc's static libc.a.
ARG TARGET=x86_64-unknown-linux-gnu
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    RUSTFLAGS='-C target-feature=+crt-static -C relocation-model=static -C link-arg=-Wl,--icf=all -C link-arg=-Wl,-T,no-unwind-tables.ld -C link-arg=-Wl,--no-eh-frame-hdr' cargo build --release --locked --target "$TARGET" \
 && install -D -m 0755 "target/$TARGET/release/trafficgen" /out/usr/local/bin/trafficgen \
 && install -D -m 0644 /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ca-certificates.crt

FROM scratch
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=https://github.com/trafficgen/trafficgen
LABEL org.opencontainers.image.title="trafficgen" \
      org.opencontainers.image.description="Open-loop HTTP load at a precise rate, with its own Prometheus /metrics, for Kubernetes Jobs" \
      org.opencontainers.image.source="$SOURCE" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.licenses="Apache-2.0"
# The binary, /usr/local/bin/trafficgen, and Debian's CA bundle, /etc/ssl/certs/ca-certificates.crt.
# trafficgen trusts the Mozilla roots built into it and reads no SSL_CERT_FILE; the bundle is
# the usual file for `--cacert` and for images built on this one.
COPY --from=build /out/ /
ENV PATH=/usr/local/bin
# 65532 is the conventional "nonroot" id (as in distroless); the Kubernetes manifests
# run as the same id with runAsNonRoot.
USER 65532:65532
# /metrics and /healthz
EXPOSE 9464
CMD ["trafficgen", "demo"]
