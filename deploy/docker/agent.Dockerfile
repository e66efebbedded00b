# syntax=docker/dockerfile:1
# pareto-agent's image, from the repository's root:
#   docker build -f deploy/docker/agent.Dockerfile -t registry.example.com/pareto/agent:0.1.0 .
# It reads a dcgm-exporter page (source = "dcgm"); for nvidia-smi, run it where the NVIDIA container
# toolkit mounts the driver's tools into the container.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --profile dist -p pareto-agent \
    && install -D target/dist/pareto-agent /opt/pareto/pareto-agent

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/pareto/pareto-agent /usr/local/bin/pareto-agent
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/pareto-agent"]
CMD ["--config", "/etc/pareto/agent.toml"]
