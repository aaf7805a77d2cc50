# Lantern: the online half (FastAPI + onnxruntime, no torch) with the shipped model store.
#
#   docker build -t lantern .
#   docker run --rm -p 8000:8000 lantern
#   docker run --rm -p 8000:8000 -v "$PWD/my_store:/app/model_store:ro" lantern   # your models
#
# Every setting is an environment variable (LANTERN_*, see README.md, "Configuration").

ARG PYTHON_IMAGE=python:3.11-slim

# ---- builder: the pinned runtime dependencies in a venv (without pip) -----------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
WORKDIR /app

# The dependency layer is keyed by pyproject.toml alone, so a code change does not reinstall it.
# The pins come straight from [project].dependencies: one list, no second requirements file.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && /opt/venv/bin/pip install --require-virtualenv --only-binary=:all: -r /tmp/requirements.txt \
 && /opt/venv/bin/pip uninstall --yes pip setuptools

# The app runs from its source tree at /app (app/, model_store/, static/, templates/ side by
# side, as in the repository), so app.config.PROJECT_ROOT is /app. Bytecode is compiled here
# because the root filesystem may be read-only at run time (Kubernetes).
COPY app ./app
RUN /opt/venv/bin/python -m compileall -q --invalidation-mode checked-hash app

# ---- runtime --------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

RUN groupadd --system --gid 10001 lantern \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin lantern

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY --from=builder /app/app ./app
COPY static ./static
COPY templates ./templates
# The shipped models; mount your own store over /app/model_store, or elsewhere and point
# LANTERN_MODEL_STORE at it.
COPY model_store ./model_store

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    LANTERN_HOST=0.0.0.0 \
    LANTERN_PORT=8000 \
    LANTERN_MODEL_STORE=/app/model_store

# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000

# Ready means every loadable model is loaded and warm (503 until then, which urlopen raises).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('LANTERN_PORT', '8000'), timeout=4)"]

STOPSIGNAL SIGTERM
CMD ["python", "-m", "app"]
