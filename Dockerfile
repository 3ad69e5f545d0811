# syntax=docker/dockerfile:1
#
# kueueleuleu: the KRM function / CLI (entrypoint) and the step runner, both
# static, in an otherwise empty image that runs as a non-root user.
#
#   docker build -t ghcr.io/kueueleuleu/kueueleuleu:v0.1.0 .
#   docker run --rm -i ghcr.io/kueueleuleu/kueueleuleu:v0.1.0 < resource-list.yaml
#
# The converted Pods' init container runs /usr/local/bin/kueueleuleu-step from
# this image to copy the runner into a shared volume.
#
# This file is the image's only definition. `.ci/build-image.sh` builds the
# final stage offline with buildah: it compiles the binaries on the host
# (.ci/build-static.sh) and hands them in as the `build` stage
# (`--build-context build=DIR`, DIR/out/ holding the two binaries), so the
# rust base image is never pulled and both ways give the same image.

ARG RUST_VERSION=1.95.0

# The build stage runs for the target platform (buildx emulates foreign ones),
# so uname -m inside it names the musl target to build.
FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
COPY . .
# Same commands as a local static build: see .ci/build-static.sh.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    .ci/build-static.sh --out /out

FROM scratch AS image
# Kept equal to Cargo.toml's version (a test checks); the offline build passes it.
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="kueueleuleu" \
      org.opencontainers.image.description="Run the containers of a Pod, Job or CronJob one after the other (KRM function, CLI and step runner)" \
      org.opencontainers.image.source="https://github.com/kueueleuleu/kueueleuleu" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
# kpt and kustomize start functions as `--user nobody`, which the runtime
# resolves through /etc/passwd; 65532 is the image's own non-root user. No
# shell: /sbin/nologin does not exist here.
COPY --chmod=0444 image/etc/passwd image/etc/group /etc/
COPY --from=build --chmod=0555 /out/kueueleuleu /out/kueueleuleu-step /usr/local/bin/
USER 65532:65532
WORKDIR /
ENTRYPOINT ["/usr/local/bin/kueueleuleu"]
