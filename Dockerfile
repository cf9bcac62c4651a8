# The garch-mlops service image. Build with scripts/build_image.sh, which fills build/wheels first: every Python
# dependency is installed from that wheelhouse, so the build needs no package index (it works with --network none).
# Classic builder syntax only (no BuildKit features).
ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS builder
WORKDIR /src
RUN python3 -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
COPY requirements/service.lock requirements/service.lock
COPY build/wheels /wheels
# Then the installers go: the running service needs neither pip nor setuptools, so the venv holds exactly the lock
# (what the image's SBOM lists) and no installer's vulnerabilities.
RUN pip install --no-index --find-links /wheels -r requirements/service.lock \
    && pip check \
    && pip uninstall --yes --quiet setuptools pip
# The project is not pip-installed (that would need a build backend in the wheelhouse); its code is copied to /app
# instead. This dist-info, on PYTHONPATH next to it, gives importlib.metadata the name and version of pyproject.toml.
# It is made apart from the venv so that editing pyproject.toml does not invalidate the venv's layer.
COPY pyproject.toml pyproject.toml
RUN python -c "import pathlib, tomllib; \
p = tomllib.loads(pathlib.Path('pyproject.toml').read_text())['project']; \
d = pathlib.Path('/metadata', p['name'].replace('-', '_') + '-' + p['version'] + '.dist-info'); \
d.mkdir(parents=True); \
(d / 'METADATA').write_text('Metadata-Version: 2.1\nName: ' + p['name'] + '\nVersion: ' + p['version'] + '\n')"

FROM ${BASE_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8001
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin garch
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY --from=builder /metadata/ /app/
COPY service/ /app/service/
RUN python -m compileall -q /app/service && python -c "import service.main"
# What is inside: the CycloneDX SBOM of the installed dependencies (scripts/build_image.sh makes it from the lock).
COPY build/sbom/service.cdx.json /usr/share/garch-mlops/sbom.cdx.json
USER garch
EXPOSE 8001
# Docker's own check: interval 5 s so `docker inspect` reports healthy within seconds of the models being loaded.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8001') + '/health', timeout=3).status == 200 else 1)"]
CMD ["python", "-m", "service"]

# Last, so a new revision re-labels the image without invalidating any layer above.
ARG VERSION=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="garch-mlops" \
      org.opencontainers.image.description="GARCH volatility forecast API (FastAPI + arch)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      io.garch-mlops.sbom="/usr/share/garch-mlops/sbom.cdx.json"
