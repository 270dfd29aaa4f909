# Base image: Node 24 (Active LTS) on Debian bookworm-slim.
# - bookworm-slim rather than alpine: glibc, the same Debian release CI runs the
#   tests on, so no musl-only surprises in native or prebuilt modules. Slim has no
#   curl or wget, hence the HEALTHCHECK runs our own Nest-free dist/healthcheck.js.
ARG NODE_VERSION=24
FROM node:${NODE_VERSION}-bookworm-slim AS base
WORKDIR /app

# --- all dependencies, from the lockfile only (cached until it changes) -------
FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- build: `nest build` compiles src/ into dist/ (with source maps) ----------
FROM deps AS build
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- production dependencies only --------------------------------------------
FROM base AS prod-deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# --- runtime -----------------------------------------------------------------
FROM base AS runtime
ENV NODE_ENV=production \
    PORT=3000
# V8 heap sizing for the 256 MiB container limit of deploy/k8s: small semi-spaces keep
# the young generation from staying resident after boot (RSS), and the old-space cap
# makes V8 collect harder before the kernel OOM-kills the pod. No --enable-source-maps:
# the app maps its own stack traces into src/ (src/source-maps.ts); the flag would also
# read and keep the source maps of ~850 dependency files, about 5 MiB of RSS.
# `npm run bench` runs the app with these same lines.
ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=160"
# glibc gives each thread that allocates (V8's compiler and GC workers, libuv's pool)
# its own malloc arena and keeps their freed pages; two arenas keep RSS after load
# lower at no measurable cost (docs/BENCHMARKS.md).
ENV MALLOC_ARENA_MAX=2
# Owned by root and not writable by the app's user: the code cannot be altered at
# run time, and the container also works with a read-only root filesystem.
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# No NODE_COMPILE_CACHE: measured on Node 24 with Nest 12, a cache filled at build time
# takes ~90 ms off the boot (694 instead of 783 ms to liveness) but adds ~13 MiB of RSS
# (136 instead of 123 MiB once idle): Node keeps the cache it read in memory. Memory is
# the tighter budget here (docs/BENCHMARKS.md).
USER node
EXPOSE 3000
# Liveness, not readiness: Swarm, ECS and autoheal replace a container that turns
# unhealthy, and a Redis or PostgreSQL outage would make every replica unhealthy at
# once; replacing them cannot fix a shared dependency. docker-compose.yml overrides
# this with readiness for its service_healthy gating. The CLI gives up after
# HEALTHCHECK_TIMEOUT_MS (2000 ms), below the 3 s timeout here so it can still say
# why; boot (connect, migrations) fits well inside the 30 s start period.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "dist/healthcheck.js", "live"]
# Exec form: node is the process that receives SIGTERM (no shell in between) and
# drains by itself: readiness 503 at once, SHUTDOWN_DRAIN_MS of service, then exit 0.
CMD ["node", "dist/main.js"]
