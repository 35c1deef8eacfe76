# Build stage: the compiler and -dev packages stay here.
FROM debian:bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
        libcivetweb-dev libjansson-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY src ./src
RUN make build/procsvc

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
ENTRYPOINT ["procsvc"]
CMD ["serve"]
