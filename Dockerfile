# syntax=docker/dockerfile:1
#
# trafficgen as a static binary on an empty image.
#
#   docker build -t trafficgen:0.1.0 .
#
# No ENTRYPOINT, and CMD runs the self-contained demo. That makes both Kubernetes forms work:
#   kubectl create job demo --image=IMG                       -> CMD: `trafficgen demo`, a run
#                                                                against its own built-in server
#   kubectl create job tg --image=IMG -- trafficgen --rate 150 --duration 10m URL
#                                                             -> the args replace CMD
# An ENTRYPOINT of trafficgen would turn the second form into `trafficgen trafficgen ...`.

FROM rust:1-bookworm AS build
ARG TARGET=x86_64-unknown-linux-musl
# ring compiles C and assembly, which needs musl-gcc for the musl target. The Rust image
# floats on bookworm anyway, so pinning this one package's version would buy nothing.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add "$TARGET"
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --target "$TARGET" \
 && install -D -m 0755 "target/$TARGET/release/trafficgen" /out/usr/local/bin/trafficgen

FROM scratch
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="trafficgen" \
      org.opencontainers.image.description="Open-loop HTTP load at a precise rate, with its own Prometheus /metrics, for Kubernetes Jobs" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/ /
ENV PATH=/usr/local/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# 65532 is the conventional "nonroot" id (as in distroless); the Kubernetes manifests
# run as the same id with runAsNonRoot.
USER 65532:65532
# /metrics and /healthz
EXPOSE 9464
CMD ["trafficgen", "demo"]
