# The application image: the web app (gunicorn) and the scheduler run from it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml ./
COPY api ./api
COPY cases ./cases
COPY engine ./engine
COPY handlers ./handlers
COPY processes ./processes
COPY forms ./forms
COPY migrations ./migrations
RUN pip install --no-cache-dir . && useradd --system caseflow
USER caseflow
EXPOSE 8000
CMD ["gunicorn", "--workers", "4", "--threads", "4", "--bind", "0.0.0.0:8000", "api:create_app()"]
