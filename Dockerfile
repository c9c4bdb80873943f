# syntax=docker/dockerfile:1
#
# auditor's own container image: `docker build -t auditor .`, then for example
#   docker run --rm -v "$PWD:/data" auditor scan --config /data/audit.yaml
#
# Two stages on the same pinned base: the builder installs the pinned dependencies
# (requirements.lock, as constraints: runtime packages only, no test tools) and auditor
# itself into a virtualenv with uv; the final stage copies that virtualenv and adds only
# the shared libraries WeasyPrint loads at run time. No compilers, no package caches,
# a non-root user with a fixed numeric uid.
#
# Base: python:3.11.14-slim-bookworm pinned by its image-index digest. Refresh both
# FROM lines together after checking the digest with
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm

FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_NO_CACHE=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    VIRTUAL_ENV=/opt/auditor

RUN python -m pip install "uv==0.13.9" \
 && python -m venv /opt/auditor

WORKDIR /src
COPY requirements.lock pyproject.toml setup.py MANIFEST.in README.md ./
COPY auditor/ auditor/
COPY controls/ controls/
COPY policies/ policies/
COPY reports/ reports/
RUN uv pip install --only-binary :all: --constraint requirements.lock . \
 && /opt/auditor/bin/auditor --version


FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

LABEL org.opencontainers.image.title="auditor" \
      org.opencontainers.image.description="Security and compliance scanner for SOC 2 and GDPR" \
      org.opencontainers.image.licenses="Apache-2.0"

# WeasyPrint (PDF evidence packs) loads Pango and HarfBuzz (with subsetting) at run time;
# DejaVu fonts render the reports; poppler-utils reads PDFs back (pdftotext).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      fonts-dejavu-core \
      libharfbuzz-subset0 \
      libpango-1.0-0 \
      libpangoft2-1.0-0 \
      poppler-utils \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid 10001 auditor \
 && useradd --uid 10001 --gid 10001 --home-dir /home/auditor --create-home --shell /usr/sbin/nologin auditor \
 && mkdir -p /data \
 && chown 10001:10001 /data

COPY --from=builder /opt/auditor /opt/auditor

ENV PATH="/opt/auditor/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/home/auditor \
    XDG_CACHE_HOME=/home/auditor/.cache \
    AUDITOR_DB=/data/auditor.db \
    CKV_SKIP_PACKAGE_UPDATE_CHECK=true \
    BC_SKIP_MAPPING=TRUE

WORKDIR /data
USER 10001:10001

# A scan is a batch job: the check is that the scanner starts and reads its catalogs.
HEALTHCHECK --interval=5m --timeout=30s --start-period=10s --retries=3 CMD ["auditor", "controls", "--framework", "soc2"]

ENTRYPOINT ["auditor"]
CMD ["--help"]
