# Margin container image.
#
#   docker build -t margin .                       # default base: python:3.11-slim-bookworm
#   buildah bud --build-arg BASE_IMAGE=localhost/margin-base:bookworm .   # CI: local debootstrap base
#
# The base only has to provide Debian bookworm with python3 (3.11, with venv), useradd and
# CA certificates; nothing here relies on `python`/`pip` names or on curl.
# Dependencies come from uv.lock (--frozen): the build fails if the lock is out of date.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# ---------------------------------------------------------------------------- build stage
FROM ${BASE_IMAGE} AS build
ARG UV_VERSION=0.13.9
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3 \
    UV_SYSTEM_CERTS=1 \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# uv itself, in its own throw-away venv (works on bases without a `pip` command).
RUN python3 -m venv /opt/uv \
 && /opt/uv/bin/python -m pip install --no-cache-dir "uv==${UV_VERSION}"

WORKDIR /app
# Third-party dependencies first: this layer is reused until uv.lock or pyproject.toml change.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev --no-install-project

# Then the project itself. It is installed editable on purpose: the service finds its Alembic
# migrations next to the package (/app/migrations).
COPY service ./service
COPY migrations ./migrations
RUN --mount=type=cache,target=/root/.cache/uv \
    /opt/uv/bin/uv sync --frozen --no-dev \
 && /app/.venv/bin/python -c "import service.cli, service.app"

# -------------------------------------------------------------------------- runtime stage
FROM ${BASE_IMAGE} AS runtime

# A fixed, non-root uid/gid so that volumes and bind mounts can be chowned to it (10001:10001).
# /keys holds the keyring: mount a directory there (writable by 10001), not a single file, so
# `margin keys rotate` can replace keys.json atomically (write a new file, rename it over).
RUN groupadd --gid 10001 margin \
 && useradd --uid 10001 --gid 10001 --no-log-init --no-create-home --home-dir /app \
      --shell /usr/sbin/nologin margin \
 && mkdir -p /data /keys \
 && chown margin:margin /data /keys \
 && chmod 0750 /data \
 && chmod 0700 /keys

WORKDIR /app
# Code and venv belong to root and are read-only for the service user.
COPY --from=build /app /app
# Relative ./var paths (e.g. the demo moderator token) land in the data volume.
RUN ln -s /data /app/var

ENV PATH=/app/.venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MARGIN_ENV=production \
    MARGIN_HOST=0.0.0.0 \
    MARGIN_PORT=8000 \
    MARGIN_WORKERS=1 \
    MARGIN_DATABASE_URL=sqlite:////data/margin.db \
    MARGIN_KEY_FILE=/keys/keys.json

VOLUME ["/data"]
EXPOSE 8000
USER 10001:10001

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MARGIN_PORT', '8000'), timeout=3)"]

# `margin serve` applies migrations, then serves with MARGIN_WORKERS workers (a socket each).
CMD ["margin", "serve"]
