# syntax=docker/dockerfile:1
# graphql-api: two stages. The first installs the locked dependencies and the
# package into a virtualenv; the second copies only that virtualenv and the SQL
# files into a clean slim image and runs as an unprivileged user.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
RUN python -m venv /opt/venv
# The lock file alone first, so the dependency layer is reused until it changes.
COPY requirements.lock ./
RUN /opt/venv/bin/pip install --require-virtualenv -r requirements.lock
COPY pyproject.toml ./
COPY graphql_api ./graphql_api
RUN /opt/venv/bin/pip install --require-virtualenv --no-deps .

FROM python:3.11-slim AS runtime
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY sql ./sql
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GRAPHQL_API_ENV=production \
    GRAPHQL_API_WORKERS=1 \
    GRAPHQL_API_SQL_DIR=/app/sql
USER 10001:10001
EXPOSE 8000
# The slim image has no curl; the command itself checks /healthz.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["graphql-api", "healthcheck", "--url", "http://127.0.0.1:8000/healthz"]
# Production settings come from the environment (GRAPHQL_API_ENV=production above
# requires GRAPHQL_API_JWT_SECRET or GRAPHQL_API_JWT_PUBLIC_KEY_FILE, and the RDS_*
# variables); GRAPHQL_API_WORKERS sets the worker processes.
CMD ["graphql-api", "serve", "--host", "0.0.0.0", "--port", "8000"]
