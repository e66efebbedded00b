# syntax=docker/dockerfile:1
# Pareto's server image, from the repository's root:
#   docker build -f deploy/docker/server.Dockerfile -t registry.example.com/pareto/server:0.1.0 .
# The build stage runs what `make dist` runs; the image holds the unpacked release and nothing else.
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    scripts/tools.sh build \
    && cargo xtask dist --out /dist \
    && mkdir /opt/pareto \
    && tar -xzf /dist/pareto-*-linux.tar.gz -C /opt/pareto --strip-components=1

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/pareto /opt/pareto
# Settings come from the environment (README: Configuration); the site is found beside the binary.
ENV PARETO_LISTEN=0.0.0.0:3000 \
    PARETO_LOG_FORMAT=json
USER 65532:65532
EXPOSE 3000
ENTRYPOINT ["/opt/pareto/pareto"]
CMD ["serve"]
