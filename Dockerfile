# The bot as one image for every role: `run` (polling or webhook) and `worker`.
# Build: docker build -t participation-bot .     Run: see README, "Deploying".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# The charts' font (DejaVu Sans: Latin and Arabic) ships with the code (bot/polls/fonts);
# FriBiDi lets Pillow's Raqm join Arabic letters and order right-to-left text.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libfribidi0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin bot

WORKDIR /app
# Dependencies first (pinned by constraints.txt), so a code change does not reinstall them.
COPY pyproject.toml constraints.txt README.md ./
RUN python -m venv /opt/venv \
    && mkdir -p bot handlers models \
    && touch bot/__init__.py handlers/__init__.py models/__init__.py \
    && pip install -c constraints.txt -e . \
    && rm -rf bot handlers models

COPY alembic.ini babel.cfg ./
COPY bot bot
COPY handlers handlers
COPY models models
COPY locales locales
COPY seed seed
# Compile the translations now: the running bot finds them up to date and writes nothing.
RUN pybabel compile -d locales -D messages --statistics \
    && python -m compileall -q bot handlers models \
    && mkdir -p /app/data && chown bot:bot /app/data

USER bot
# SQLite installs keep their database here (DATA_DIR); PostgreSQL installs ignore it.
VOLUME ["/app/data"]
EXPOSE 8080
# /healthz on the webhook port, or on METRICS_PORT in polling and worker mode.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot", "healthcheck"]
ENTRYPOINT ["python", "-m", "bot"]
CMD ["run"]
