# syntax=docker/dockerfile:1
# The kexpose sidecar image for Argo CD's config-management plugin: a static kexpose binary,
# a shell for plugin.yaml's commands, and the plugin configuration where argocd-cmp-server
# looks for it. The sidecar runs as user 999 (deploy/argocd/repo-server-patch.yaml).
#
#   docker build -t registry.example.com/kexpose-cmp:0.1.0 .
#
# Also usable on its own: docker run --rm -v "$PWD:/src" -w /src IMAGE kexpose validate kexpose.yaml

ARG RUST_VERSION=1.95
ARG ALPINE_VERSION=3.22

# Build: Rust on Alpine targets musl and links statically by default.
FROM rust:${RUST_VERSION}-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin kexpose \
    && mkdir -p /out && cp target/release/kexpose /out/kexpose

# Runtime: busybox sh for the plugin commands, nothing else.
FROM alpine:${ALPINE_VERSION}
RUN adduser -D -u 999 -h /home/argocd argocd
COPY --from=build /out/kexpose /usr/local/bin/kexpose
COPY deploy/argocd/plugin.yaml /home/argocd/cmp-server/config/plugin.yaml
USER 999
WORKDIR /home/argocd
CMD ["kexpose", "--help"]
