# The application image: the web app (gunicorn) and the scheduler run from it.

# the pages' JavaScript (bpmn-js, Chart.js at the lock file's versions), bundled as `make assets` does
FROM node:20-slim AS assets
WORKDIR /build/assets
COPY web/assets/package.json web/assets/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/assets/build.mjs ./
COPY web/assets/src ./src
RUN npm run build

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY api ./api
COPY cases ./cases
COPY engine ./engine
COPY gateway ./gateway
COPY handlers ./handlers
COPY server ./server
COPY web ./web
COPY workers ./workers
COPY --from=assets /build/static/dist ./web/static/dist
COPY processes ./processes
COPY forms ./forms
COPY migrations ./migrations
# the pages' translations are compiled here: the app would compile them at start, but runs
# as a user who cannot write into the installation
RUN pip install --no-cache-dir . \
    && python -c "from web.i18n import compile_catalogues; compile_catalogues()" \
    && useradd --system caseflow
USER caseflow
EXPOSE 8000
# liveness: the process answers (readiness, with the database and migrations: /ready?scope=web)
HEALTHCHECK --interval=15s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health')"]
CMD ["gunicorn", "--workers", "4", "--threads", "4", "--bind", "0.0.0.0:8000", "server:create_app()"]
