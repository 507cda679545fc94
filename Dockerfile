# syntax=docker/dockerfile:1
# tsgate's container image: the gateway on Debian bookworm-slim, as a
# non-root user, state in the /data volume.
#
#   docker build -t tsgate:0.1.0 --build-arg VERSION=0.1.0 \
#     --build-arg REVISION=$(git rev-parse HEAD) --build-arg CREATED=$(date -u +%FT%TZ) .
#
# The build stage runs scripts/build.sh, the command CI runs too: deploy's
# tests read this file, run the build stage's steps on the (bookworm) host,
# check the binary needs no library the runtime base lacks, and check the
# instructions below (user, volume, ports, health check, labels).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN VERSION="${VERSION}" ./scripts/build.sh /out/tsgate

FROM debian:bookworm-slim
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="tsgate" \
      org.opencontainers.image.description="Query-language gateway for time-series databases: Arc's HTTP API, the memtrace API and the PostgreSQL wire protocol in front of DuckDB, InfluxDB, PostgreSQL/TimescaleDB or ClickHouse" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="debian:bookworm-slim"
# ca-certificates: TLS to cloud databases; tzdata: ClickHouse answers
# carry zone names Go resolves from /usr/share/zoneinfo. The user's
# numeric ID lets Kubernetes' runAsNonRoot check it without a passwd file.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 tsgate \
 && useradd --system --uid 65532 --gid tsgate --home-dir /data --no-create-home --shell /usr/sbin/nologin tsgate \
 && mkdir -p /data /etc/tsgate \
 && chown tsgate:tsgate /data \
 && chmod 0700 /data
COPY --from=build /out/tsgate /usr/local/bin/tsgate
# The embedded store, the token file, memtrace's metadata and the
# dual-write queue live here; tsgate.toml may be mounted at /etc/tsgate.
ENV TSGATE_DATA_DIR=/data
VOLUME ["/data"]
WORKDIR /data
USER 65532:65532
# Arc API, memtrace API, PostgreSQL wire protocol.
EXPOSE 8000 9100 5433
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/tsgate", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/tsgate"]
CMD ["serve"]
