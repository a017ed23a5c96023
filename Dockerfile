# syntax=docker/dockerfile:1
#
# Vouch runtime image: one static-ish binary on distroless, non-root.
#
#   docker build -t vouch .
#   docker run --rm vouch --help
#
# The same image runs every role; docker-compose.yml shows the production
# topology (one role per container). See docs/operations.md.

ARG RUST_VERSION=1.95

# ---- build -------------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-bookworm AS builder

# C toolchain for aws-lc-sys (crypto) and the bundled SQLite.
RUN apt-get update \
    && apt-get install -y --no-install-recommends cmake g++ make perl pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p vouch \
    && install -D -m 0755 target/release/vouch /out/vouch \
    && mkdir -p /out/data

# ---- runtime -----------------------------------------------------------------
# glibc, libgcc and CA certificates, no shell, no package manager.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime

LABEL org.opencontainers.image.title="vouch" \
      org.opencontainers.image.description="Vouch: a Veraison-compatible remote-attestation verifier" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --from=builder /out/vouch /usr/local/bin/vouch
# Data directory for the SQLite default and a generated EAR key; the
# production topology uses PostgreSQL and a mounted key instead.
COPY --from=builder --chown=65532:65532 /out/data /var/lib/vouch

ENV VOUCH_DATA_DIR=/var/lib/vouch \
    VOUCH_VERIFICATION_ADDR=0.0.0.0:8443 \
    VOUCH_PROVISIONING_ADDR=0.0.0.0:9443 \
    VOUCH_MANAGEMENT_ADDR=0.0.0.0:10443 \
    VOUCH_TRUST_ADDR=0.0.0.0:50051 \
    VOUCH_LOG_FORMAT=json

# distroless:nonroot's user (65532); spelt numerically so Kubernetes'
# runAsNonRoot can verify it.
USER 65532:65532
WORKDIR /var/lib/vouch

# verification REST, provisioning REST, management REST, trust gRPC
EXPOSE 8443 9443 10443 50051

# The image has no curl: `vouch healthcheck` probes readiness itself. This
# default suits the all-in-one process; role containers override it (see
# docker-compose.yml).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/vouch", "healthcheck", "--url", "http://127.0.0.1:8443/readyz"]

# SIGTERM starts the graceful drain (see --drain-delay-ms).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/vouch"]
CMD ["serve"]
