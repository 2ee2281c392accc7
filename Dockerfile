# syntax=docker/dockerfile:1
# Punchcard's image: `punchcard serve` by default; any other command with `docker run IMAGE <command>` (migrate,
# worker, jobs run, apikey create, ...). How to run it: docs/deploy.md. Built from uv.lock exactly (`--locked`: the
# build fails rather than resolve anything anew), in two stages, so the image holds the virtual environment and
# nothing of the build (no uv, no source tree, no caches).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13.9 AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
# Bytecode compiled at build time (the container's file system is read-mostly); the interpreter is the image's own.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/punchcard
WORKDIR /src
# The dependencies first, in a layer of their own that a change to Punchcard's code does not rebuild.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-project
# Then Punchcard itself, installed as a package (not a link to /src, which the next stage leaves behind).
COPY README.md ./
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 punchcard \
    && useradd --system --uid 10001 --gid punchcard --home-dir /var/lib/punchcard --create-home punchcard
COPY --from=build /opt/punchcard /opt/punchcard
ENV PATH=/opt/punchcard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PUNCHCARD_LOG_FORMAT=json
# The working directory is the user's own: the default SQLite database (sqlite:///punchcard.db) is written here.
WORKDIR /var/lib/punchcard
USER punchcard:punchcard
EXPOSE 8000
# Liveness only (/healthz touches no database): a database outage must not get every container replaced. Readiness,
# /readyz, is for a load balancer to ask. The image has no curl: the check is Python's own urllib.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["punchcard"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
