# The civicloop API. docker-compose.yml runs it in the production shape (PostGIS, a one-shot
# `civicloop migrate`, then `civicloop serve` with several worker processes).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Install from a copy of the sources, then drop them: the image runs the installed package only,
# with exactly the dependencies of `pip install civicloop` (no extras), as tests/platform checks.
COPY pyproject.toml README.md /src/
COPY app /src/app
COPY migrations /src/migrations
RUN pip install /src \
    && rm -rf /src \
    && useradd --system --uid 10001 --create-home --home-dir /home/civicloop civicloop

# Not root. The working directory holds the embedded SQLite database (var/) when no
# CIVICLOOP_DATABASE_URL is given, so the image also runs on its own for a quick look.
# Production mode: it refuses to start without CIVICLOOP_SECRET_KEY (the development key is
# public) and answers only for the host of CIVICLOOP_PUBLIC_BASE_URL.
USER civicloop
WORKDIR /home/civicloop
ENV CIVICLOOP_ENVIRONMENT=production \
    CIVICLOOP_HOST=0.0.0.0 \
    CIVICLOOP_PORT=8000
EXPOSE 8000

# The slim image has no curl: Python's standard library asks /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${CIVICLOOP_PORT:-8000}/healthz', timeout=4)"

CMD ["civicloop", "serve"]
