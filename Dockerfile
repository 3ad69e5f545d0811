# syntax=docker/dockerfile:1
#
# kueueleuleu: the KRM function / CLI (entrypoint) and the step runner, both
# static, in an otherwise empty image that runs as a non-root user.
#
#   docker build -t kueueleuleu .
#   docker run --rm -i kueueleuleu < resource-list.yaml
#
# The converted Pods' init container runs /usr/local/bin/kueueleuleu-step from
# this image to copy the runner into a shared volume.

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

FROM scratch
COPY --from=build --chmod=0555 /out/kueueleuleu /out/kueueleuleu-step /usr/local/bin/
# 65532 is the conventional "nonroot" uid/gid of minimal images.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kueueleuleu"]
