# Constancia: one image for the web (gunicorn), the Celery worker and beat (docker-compose.yml).
FROM python:3.11-slim-bookworm

# PYTHONPATH: import the project from /app, where templates/ and static/ sit next to it.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/data/media

# WeasyPrint's system libraries; harfbuzz-subset keeps font subsetting fast. No font package:
# evidence PDFs use only the fonts vendored in evidence/fonts/, whatever the host has.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 constancia \
    && useradd --system --uid 10001 --gid constancia --home-dir /app --shell /usr/sbin/nologin constancia

WORKDIR /app
# Dependencies first: this layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml ./
COPY config/__init__.py config/
# `pip install .` brings every dependency; the project itself then runs from /app (PYTHONPATH).
RUN pip install . && pip uninstall -y constancia
COPY . .
# Dummy secrets: collectstatic only needs settings to load; DEBUG=false picks the hashed,
# compressed storage whitenoise serves in production.
RUN DEBUG=false SECRET_KEY=collectstatic-only LEDGER_HMAC_KEY=collectstatic-only EVIDENCE_ENCRYPTION_KEY=collectstatic-only \
        python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /data/media \
    && chown -R constancia:constancia /data

USER constancia
VOLUME ["/data/media"]
EXPOSE 8000
# WEB_CONCURRENCY sets the number of gunicorn workers.
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "--timeout", "60"]
