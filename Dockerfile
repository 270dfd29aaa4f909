# syntax=docker/dockerfile:1
#
# Base image: Node 22 on Debian bookworm-slim.
# - Node 22 is an LTS line (security support until April 2027); the app and its
#   tests also run on Node 20 and 24 (package.json engines: >=20). Bump NODE_VERSION
#   to the newest LTS when it suits you: nothing here depends on 22.
# - bookworm-slim rather than alpine: glibc, the same Debian release CI runs the
#   tests on, so no musl-only surprises in native or prebuilt modules. Slim has no
#   curl or wget, hence the HEALTHCHECK runs our own Nest-free dist/healthcheck.js.
ARG NODE_VERSION=22
FROM node:${NODE_VERSION}-bookworm-slim AS base
WORKDIR /app

# --- all dependencies, from the lockfile only (cached until it changes) -------
FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# --- build: compile src/ into dist/, then bundle the app into dist/main.bundle.js
# with its loader as dist/main.js (scripts/bundle.js: one file boots about a quarter
# faster than ~1,800 modules; dist/healthcheck.js stays its own small entry)
FROM deps AS build
COPY nest-cli.json tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
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
# V8 heap sizing for the 256 MiB container limit of deploy/k8s. By default V8 grows the
# young generation to 2 × 16 MiB while the app boots and keeps it resident: RSS
# ≈ 136 MiB at rest. 4 MiB semi-spaces bring it to ≈ 116 MiB at no measurable cost
# to the probes; the old-space cap makes V8 collect harder before the kernel
# OOM-kills the pod. Measured in docs/BENCHMARKS.md; `npm run bench` runs the app
# with this same line.
ENV NODE_OPTIONS="--max-semi-space-size=4 --max-old-space-size=160"
# glibc gives each thread that allocates (V8's compiler and GC workers, libuv's pool)
# its own malloc arena and keeps their freed pages: after the jobs API's load RSS
# reached 121-123 MiB. Two arenas hold it at 112-115 MiB, with no measurable cost to
# probes or jobs (docs/BENCHMARKS.md, "What changed ... (night)").
ENV MALLOC_ARENA_MAX=2
# Owned by root and not writable by the app's user: the code cannot be altered at
# run time, and the container also works with a read-only root filesystem.
COPY package.json package-lock.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# V8 code cache for the bundle (scripts/write-code-cache.js): ≈ 60 ms off every boot.
# Written here, after the ENV lines above, because V8 accepts a cache only under the
# flags it was made with (NODE_OPTIONS' heap sizes included); a mismatch costs the gain,
# never correctness (scripts/main-loader.js). The script is mounted, not copied.
RUN --mount=type=bind,from=build,source=/app/scripts/write-code-cache.js,target=/tmp/write-code-cache.js \
    node /tmp/write-code-cache.js dist
USER node
EXPOSE 3000
# Timings agree with the app's budgets: readiness answers from the health monitor's
# snapshot within HEALTH_READINESS_BUDGET_MS (800 ms); the CLI gives up after
# HEALTHCHECK_TIMEOUT_MS (2000 ms), below the 3 s timeout here so it can still
# say why; boot (connect, migrations) fits well inside the 30 s start period.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["node", "dist/healthcheck.js", "ready"]
# Exec form: node is the process that receives SIGTERM (no shell in between) and
# drains by itself: readiness 503 at once, SHUTDOWN_DRAIN_MS of service, then exit 0.
CMD ["node", "dist/main.js"]
