# Build stage: the compiler and -dev packages stay here.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
        libcivetweb-dev libjansson-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile openapi.yaml ./
COPY src ./src
# openapi.yaml is compiled into the binary (GET /openapi.yaml).
COPY scripts/embed.sh ./scripts/
# The build context has no .git: pass the commit for `procsvc --version`
# (docker build --build-arg PROCSVC_COMMIT=$(git describe --always --dirty)).
ARG PROCSVC_COMMIT=unknown
RUN make build/procsvc PROCSVC_COMMIT="$PROCSVC_COMMIT"

# Runtime: only the shared libraries procsvc links against.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcivetweb1 libjansson4 libpq5 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/procsvc /usr/local/bin/procsvc
COPY migrations /usr/share/procsvc/migrations
ENV PROCSVC_LISTEN=0.0.0.0:8080 \
    PROCSVC_MIGRATIONS=/usr/share/procsvc/migrations
USER nobody
EXPOSE 8080
# `procsvc probe` GETs /readyz over a plain socket (the image has no curl):
# healthy = serving, with the database reachable and its schema current.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["procsvc", "probe", "--timeout", "4"]
ENTRYPOINT ["procsvc"]
CMD ["serve"]
