# The tether image: the `tether` binary on Node 20, as the non-root user 65532, with only what
# runs (the compiled packages and their production dependencies).
#
#   docker build -t ghcr.io/tether-dev/tether:0.1.0 .
#
# charts/tether runs it as `tether serve …` (its default image is ghcr.io/tether-dev/tether with
# the chart's appVersion as the tag); `docker run IMAGE explain -f -` works too.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# Compile: every dependency (TypeScript included), then `tsc -b` of the cli and what it imports.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY packages/model/package.json packages/model/
COPY packages/dialects/package.json packages/dialects/
COPY packages/migrate/package.json packages/migrate/
COPY packages/dataplane/package.json packages/dataplane/
COPY packages/echo/package.json packages/echo/
COPY packages/testkit/package.json packages/testkit/
COPY packages/controller/package.json packages/controller/
COPY packages/cli/package.json packages/cli/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY packages/ packages/
RUN npx tsc -b packages/cli \
  && find packages -path '*/dist/*' \( -name '*.d.ts' -o -name '*.map' \) -delete

# Production dependencies only, installed from the same lock file.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/model/package.json packages/model/
COPY packages/dialects/package.json packages/dialects/
COPY packages/migrate/package.json packages/migrate/
COPY packages/dataplane/package.json packages/dataplane/
COPY packages/echo/package.json packages/echo/
COPY packages/testkit/package.json packages/testkit/
COPY packages/controller/package.json packages/controller/
COPY packages/cli/package.json packages/cli/
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Run: no shell, no package manager; node_modules/@tether/* link to packages/* (the stand-ins
# of testkit are for tests and stay out).
FROM ${RUNTIME_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/package.json ./
COPY --from=deps /app/node_modules node_modules/
COPY --from=build /src/packages/model/package.json packages/model/
COPY --from=build /src/packages/model/dist packages/model/dist/
COPY --from=build /src/packages/dialects/package.json packages/dialects/
COPY --from=build /src/packages/dialects/dist packages/dialects/dist/
COPY --from=build /src/packages/migrate/package.json packages/migrate/
COPY --from=build /src/packages/migrate/dist packages/migrate/dist/
COPY --from=build /src/packages/dataplane/package.json packages/dataplane/
COPY --from=build /src/packages/dataplane/dist packages/dataplane/dist/
COPY --from=build /src/packages/echo/package.json packages/echo/
COPY --from=build /src/packages/echo/dist packages/echo/dist/
COPY --from=build /src/packages/controller/package.json packages/controller/
COPY --from=build /src/packages/controller/dist packages/controller/dist/
COPY --from=build /src/packages/cli/package.json packages/cli/
COPY --from=build /src/packages/cli/dist packages/cli/dist/
COPY --from=build /src/packages/cli/bin packages/cli/bin/
USER 65532:65532
# HTTP, HTTPS and admin (/healthz, /readyz, /metrics): the ports the chart passes to serve.
EXPOSE 8080 8443 9090
# A young generation of at most 8 MiB per semi-space: with thousands of idle connections the
# default 16 MiB holds about 30 MiB more, and requests per second do not change (test/bench).
# Garbage collected on the thread that runs JavaScript: a process (each of `--workers`) gets
# one core, and V8's helper threads only took time from it (test/bench/README.md).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "--single-threaded-gc", "/app/packages/cli/bin/tether.js"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--admin", "0.0.0.0:9090"]
