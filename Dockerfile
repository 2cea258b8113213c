# The kridik image: the static release binary (make dist) alone on an empty
# root file system, run as a non-root user, no shell. `make image` writes the
# same image as an OCI layout without a daemon (tests/dist/image.py); with
# Docker or Buildah: `docker build -t kridik .`
FROM rust:1.95-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN rustup target add wasm32-wasip2 x86_64-unknown-linux-musl \
 && cargo build --release --locked --target x86_64-unknown-linux-musl -p kridik

FROM scratch
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/kridik /kridik
COPY --from=build /src/LICENSE /licenses/LICENSE
# distroless's nonroot user; the CronJob in deploy/ runs as it too.
USER 65532:65532
ENTRYPOINT ["/kridik"]
CMD ["--help"]
LABEL org.opencontainers.image.title="kridik" \
      org.opencontainers.image.description="Security scanner for Istio service meshes (sandboxed WebAssembly checks)" \
      org.opencontainers.image.source="https://github.com/kridik/kridik" \
      org.opencontainers.image.licenses="Apache-2.0"
