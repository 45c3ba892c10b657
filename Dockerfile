# syntax=docker/dockerfile:1
# One image for all four services; the command picks one: `serve intake|media|review|publish`,
# `migrate <service|all>`, `broker setup`.
#
# BASE_IMAGE must provide python3.11 with the venv module (python:3.11-slim does; so does a
# Debian bookworm rootfs with python3.11 and python3-venv, which scripts/image_smoke.sh builds
# because no registry can be pulled there). Builder and runtime share it so the venv's
# interpreter symlinks resolve in both.
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1
WORKDIR /src
RUN python3 -m venv /opt/gongyi
# Dependencies first, from metadata only, so a source change does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN /opt/gongyi/bin/pip install -c constraints.txt --upgrade pip setuptools wheel \
 && /opt/gongyi/bin/pip wheel --wheel-dir /wheels -c constraints.txt . \
 && /opt/gongyi/bin/pip install --no-index --find-links /wheels -c constraints.txt /wheels/*.whl \
 && /opt/gongyi/bin/pip uninstall -y gongyi
COPY gongyi ./gongyi
COPY services ./services
# --no-deps: every dependency is already installed above at the pinned versions.
# pip compiles .pyc here, so the read-only runtime never needs to write bytecode.
RUN /opt/gongyi/bin/pip install --no-deps -c constraints.txt . \
 && /opt/gongyi/bin/gongyi --help >/dev/null

FROM ${BASE_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/gongyi/bin:${PATH} \
    HOME=/tmp \
    TMPDIR=/tmp \
    GONGYI_MODE=server \
    GONGYI_HTTP_HOST=0.0.0.0 \
    GONGYI_HTTP_PORT=8000 \
    GONGYI_CONTRACTS_DIR=/app/contracts \
    GONGYI_DATA_DIR=/tmp/gongyi
# Fixed uid/gid 10001: manifests pin runAsUser 10001, so the numbers must agree.
RUN groupadd --gid 10001 gongyi \
 && useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin gongyi
COPY --from=builder /opt/gongyi /opt/gongyi
# Call configurations and event contracts, for code that reads them from the working directory.
COPY --chown=0:0 calls /app/calls
COPY --chown=0:0 contracts /app/contracts
WORKDIR /app
# Numeric user so runAsNonRoot can verify it without resolving names.
USER 10001:10001
EXPOSE 8000
# Exec form: gongyi is PID 1 and receives SIGTERM directly for the graceful nameko stop.
ENTRYPOINT ["gongyi"]
CMD ["serve", "intake"]
