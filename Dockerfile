# syntax=docker/dockerfile:1
#
# pleskgate's image: the gateway (/pleskgate, the entrypoint) and the Plesk
# simulator (/plesksim) on distroless static, as uid 65532.
#
#   docker build -t pleskgate:dev --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg COMMIT="$(git rev-parse HEAD)" .
#   docker run --rm -p 8080:8080 pleskgate:dev                      # sandbox mode
#   docker run --rm -p 8880:8880 --entrypoint /plesksim pleskgate:dev --demo
#
# The build step is `make build`'s, with /out/ for bin/ (deploy/validate checks
# that the two stay the same).

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Build with this image's Go: fail, rather than download another toolchain,
# if go.mod ever asks for a newer one (then raise GO_VERSION).
ENV GOTOOLCHAIN=local
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
# What --version prints (the context has no .git to read them from).
ARG VERSION=dev
ARG COMMIT=unknown
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/pleskgate/pleskgate/internal/buildinfo.version=${VERSION} -X github.com/pleskgate/pleskgate/internal/buildinfo.commit=${COMMIT}" -o /out/pleskgate ./cmd/pleskgate && \
    CGO_ENABLED=0 go build -trimpath -ldflags "-X github.com/pleskgate/pleskgate/internal/buildinfo.version=${VERSION} -X github.com/pleskgate/pleskgate/internal/buildinfo.commit=${COMMIT}" -o /out/plesksim ./cmd/plesksim

# distroless static: CA certificates, /etc/passwd with nonroot (65532), tzdata,
# no shell. Both binaries are static (CGO_ENABLED=0).
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG COMMIT=unknown
ARG REVISION=${COMMIT}
ARG CREATED=unknown
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="pleskgate" \
      org.opencontainers.image.description="REST/JSON gateway in front of Plesk's XML API (with the plesksim simulator at /plesksim)" \
      org.opencontainers.image.source="https://github.com/pleskgate/pleskgate" \
      org.opencontainers.image.url="https://github.com/pleskgate/pleskgate" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"
COPY --from=build /out/pleskgate /pleskgate
COPY --from=build /out/plesksim /plesksim
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/pleskgate"]
