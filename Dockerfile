# syntax=docker/dockerfile:1
# wealthgate: a wheel built in one stage, installed into a slim runtime that runs as a non-root user.
# Build: docker build -t wealthgate:0.1.0 .      Run with PostgreSQL: docker compose up (compose.yaml)
# docs/serving.md, "Container", says what this file was checked with.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
# The project and every dependency as wheels: the runtime stage installs offline, with no compiler.
RUN python -m pip wheel --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    WEALTHGATE_HOME=/var/lib/wealthgate \
    WEALTHGATE_AUDIT_WITNESS_DIR=/var/lib/wealthgate/audit-witness
RUN groupadd --system --gid 10001 wealthgate \
    && useradd --system --uid 10001 --gid wealthgate --home-dir /var/lib/wealthgate --create-home \
        --shell /usr/sbin/nologin wealthgate \
    && install -d -o wealthgate -g wealthgate -m 0750 /var/lib/wealthgate/audit-witness \
    && install -d -o wealthgate -g wealthgate -m 0700 /var/lib/wealthgate/run
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    python -m pip install --no-index --find-links=/wheels /wheels/wealthgate-*.whl
USER 10001:10001
WORKDIR /var/lib/wealthgate
EXPOSE 8000
# Liveness only (/healthz answers without the database); orchestrators should gate traffic on /readyz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["wealthgate"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
