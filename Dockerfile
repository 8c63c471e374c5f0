# Schakel: index the demo corpus at build time and serve it with waitress.
# The steps are those of `make demo` (README quick start): a venv, `pip install -e .`,
# `schakel index`, `schakel serve`. Base images cannot be pulled on the development
# machines, so this file is exercised through the README's install, which it mirrors.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SCHAKEL_HOME=/data VIRTUAL_ENV=/app/.venv PATH=/app/.venv/bin:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends make gcc g++ fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml Makefile README.md ./
COPY indexer ./indexer
COPY matcher ./matcher
COPY web ./web
COPY schakel ./schakel
COPY corpus ./corpus
RUN make install && schakel index
RUN useradd --system --home /data schakel && chown -R schakel /data
USER schakel
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["schakel", "serve", "--host", "0.0.0.0", "--port", "8000"]
