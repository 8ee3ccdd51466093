# syntax=docker/dockerfile:1
# The litellm-spend-exporter image: what deploy/helm/litellm-spend-exporter runs (the exporter, the roles Job and
# the `helm test` pod).
#   docker build -t litellm-spend-exporter:0.1.0 .
#   docker run --rm -e DATABASE_URL=postgresql://litellm_spend_exporter:...@db:5432/litellm -p 9733:9733 \
#     litellm-spend-exporter:0.1.0
# Pin PYTHON_IMAGE by digest in CI (python:3.11-slim-bookworm@sha256:...) for reproducible builds.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# -- build: only the wheel; the build backend (hatchling) lives in pip's isolated build environment here ----------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# .dockerignore admits only what the wheel is built from (pyproject, README, the packages, sql/).
COPY . .
RUN python -m pip wheel --no-deps --wheel-dir /dist .

# -- final: the wheel and its dependencies (binary wheels only) in a venv; no compiler, no build backend ----------
FROM ${PYTHON_IMAGE}
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
# The wheel is bind-mounted from the build stage, so it never becomes a layer of this image. The venv has no pip
# of its own (the base image's pip installs into it, then pip, setuptools and wheel are removed from the image).
RUN --mount=type=bind,from=build,source=/dist,target=/dist \
    python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --only-binary=:all: /dist/*.whl \
    && /opt/venv/bin/litellm-spend-exporter --version \
    && python -m pip uninstall --yes --quiet pip setuptools wheel
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# 65532: the conventional "nonroot" uid/gid; the chart's securityContext runs as the same ids with a read-only
# root filesystem (only /tmp is writable, an emptyDir).
USER 65532:65532
WORKDIR /tmp
EXPOSE 9733
ENTRYPOINT ["litellm-spend-exporter"]
CMD ["serve"]
