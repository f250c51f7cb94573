# Paris Live application image: stream workers, API, simulator and the one-shot init share it.
FROM python:3.11.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PARIS_LIVE_STATE_DIR=/var/lib/paris-live
WORKDIR /app
COPY pyproject.toml README.md ./
COPY paris_live ./paris_live
COPY schemas ./schemas
COPY streams ./streams
COPY producers ./producers
COPY api ./api
COPY bench ./bench
COPY dashboards ./dashboards
COPY locale ./locale
# The message catalogues are compiled here (the .mo files are not in git), then packaged.
RUN pip install --no-cache-dir "babel>=2.16,<3" && pybabel compile -d locale -D messages --statistics
RUN pip install --no-cache-dir . && useradd --system --home /var/lib/paris-live paris-live \
    && mkdir -p /var/lib/paris-live && chown paris-live /var/lib/paris-live
USER paris-live
EXPOSE 8000
ENTRYPOINT ["paris-live"]
