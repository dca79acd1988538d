# syntax=docker/dockerfile:1
# graphql-api: three stages. The first bundles GraphiQL from the pinned npm
# packages; the second installs the locked dependencies and the package into a
# virtualenv; the last copies only that virtualenv, the GraphiQL bundle and the
# SQL files into a clean slim image and runs as an unprivileged user.

# Node 24: an LTS line, supported until April 2028 (Node 20's support ended in April 2026).
FROM node:24-slim AS graphiql
WORKDIR /graphiql
# The manifests alone first, so the npm layer is reused until they change.
COPY graphiql/package.json graphiql/package-lock.json ./
# Install scripts off: esbuild finds its binary in its platform package.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY graphiql/build.mjs ./
COPY graphiql/src ./src
RUN npm run build

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
# The lock file alone first, so the dependency layer is reused until it changes.
COPY requirements.lock ./
# Every pin carries its hashes: pip installs those files or nothing.
RUN /opt/venv/bin/pip install --require-virtualenv --require-hashes -r requirements.lock
COPY pyproject.toml ./
COPY graphql_api ./graphql_api
RUN /opt/venv/bin/pip install --require-virtualenv --no-deps .

FROM python:3.11-slim AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The package is installed into the virtualenv, away from these folders, so the
# variables below say where they are: `graphql-api db init` reads sql/, and
# GraphiQL (off in production unless GRAPHQL_API_GRAPHIQL=true) serves its bundle.
COPY sql ./sql
COPY --from=graphiql /graphiql/dist ./graphiql
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GRAPHQL_API_ENV=production \
    GRAPHQL_API_WORKERS=1 \
    GRAPHQL_API_SQL_DIR=/app/sql \
    GRAPHQL_API_GRAPHIQL_DIR=/app/graphiql
USER 10001:10001
EXPOSE 8000
# The slim image has no curl; the command itself checks /healthz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["graphql-api", "healthcheck", "--url", "http://127.0.0.1:8000/healthz"]
# Production settings come from the environment (GRAPHQL_API_ENV=production above
# requires GRAPHQL_API_JWT_SECRET or GRAPHQL_API_JWT_PUBLIC_KEY_FILE, and the store
# variables: RDS_* and/or DYNAMODB_TABLE, AWS_REGION); GRAPHQL_API_WORKERS sets the
# worker processes.
CMD ["graphql-api", "serve", "--host", "0.0.0.0", "--port", "8000"]
