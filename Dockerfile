# The nxce API. Built by docker-compose.yml; configured by NXCE_* variables (see README).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# A TrueType CJK font, embedded (as a subset) in PDF transcripts so they look the same in
# every reader; without it PDFs name the standard CID font STSong-Light.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*
ENV NXCE_PDF_FONT=/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc

# The dependencies from the lock, hash-checked (a layer of their own: it changes only when
# the lock does), then the project itself without its dependencies.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY pyproject.toml README.md ./
COPY nxce ./nxce
COPY catalog ./catalog
COPY search ./search
COPY lrs ./lrs
COPY credits ./credits
COPY transcripts ./transcripts
COPY accounts ./accounts
COPY fixtures ./fixtures
COPY web ./web
RUN pip install --no-deps . \
    && useradd --system --home-dir /var/lib/nxce nxce \
    && mkdir -p /var/lib/nxce \
    && chown nxce /var/lib/nxce

USER nxce
ENV NXCE_DATA_DIR=/var/lib/nxce
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --retries=5 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"
CMD ["nxce", "serve", "--host", "0.0.0.0", "--port", "8000"]
