"""Configuration. Read from the environment only when the app is created, never at import."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-only-change-me"
MIN_SECRET_KEY_LENGTH = 32


class UnsafeConfiguration(RuntimeError):
    """A production start with settings only a development run may have."""


def check_production(config: dict[str, Any]) -> None:
    """Refuse a production start (neither ``TESTING`` nor ``DEVELOPMENT``, i.e.
    ``CASEFLOW_ENV=development``) with the default or a short ``SECRET_KEY`` (anyone could forge
    session cookies), or without ``SESSION_COOKIE_SECURE=1`` (the session cookie would travel
    over plain HTTP)."""
    if config.get("TESTING") or config.get("DEVELOPMENT"):
        return
    problems = []
    key = config.get("SECRET_KEY") or ""
    if key == DEFAULT_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY is the default or shorter than {MIN_SECRET_KEY_LENGTH} characters: set a long "
                        "random one (python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    if not config.get("SESSION_COOKIE_SECURE"):
        problems.append("SESSION_COOKIE_SECURE is not 1: serve over HTTPS and set it, so the session cookie "
                        "never travels in clear")
    if problems:
        raise UnsafeConfiguration("refusing to start in production: " + "; ".join(problems)
                                  + ". For a development run set CASEFLOW_ENV=development.")


def _database_url(env: dict[str, str]) -> str:
    url = env.get("DATABASE_URL") or f"sqlite:///{ROOT / 'instance' / 'caseflow.db'}"
    if url.startswith("postgres://"):  # the scheme some platforms still hand out
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


#: PostgreSQL settings for every connection of the application (libpq ``options``; docs/operations.md
#: "Database settings"): JIT compilation off — it cost the KPI queries ~300 ms each, more than they
#: run. ``DATABASE_SESSION_OPTIONS=""`` keeps the server's own settings.
DEFAULT_SESSION_OPTIONS = "-c jit=off"


def _engine_options(env: dict[str, str]) -> dict[str, Any]:
    """The engine's options: the session settings travel in ``connect_args`` under a key of ours,
    which ``cases.core.db`` takes out before connecting and adds to a PostgreSQL connection's
    ``options`` (merged with any the URL carries, such as a ``search_path``); SQLite ignores them."""
    options = env.get("DATABASE_SESSION_OPTIONS", DEFAULT_SESSION_OPTIONS).strip()
    return {"pool_pre_ping": True, "connect_args": {"caseflow_session_options": options}}


def from_environment(env: dict[str, str] | None = None) -> dict[str, Any]:
    env = dict(os.environ if env is None else env)
    return {
        "SQLALCHEMY_DATABASE_URI": _database_url(env),
        "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(env),
        "SECRET_KEY": env.get("SECRET_KEY", DEFAULT_SECRET_KEY),
        # a development run (make run, make test, the benchmarks): the checks above do not apply
        "DEVELOPMENT": env.get("CASEFLOW_ENV", "") == "development",
        "SESSION_COOKIE_SECURE": env.get("SESSION_COOKIE_SECURE", "") == "1",  # behind HTTPS: 1
        "WEB_TIMEZONE": env.get("WEB_TIMEZONE", "Asia/Shanghai"),  # the pages' times (web/)
        "TOKEN_LIFETIME_HOURS": int(env.get("TOKEN_LIFETIME_HOURS", "12")),
        "PROCESSES_DIR": env.get("PROCESSES_DIR", str(ROOT / "processes")),
        "FORMS_DIR": env.get("FORMS_DIR", str(ROOT / "forms")),
        "PASSWORD_HASH_METHOD": env.get("PASSWORD_HASH_METHOD", "scrypt"),
        # the scheduler process (workers/scheduler.py)
        "TIMER_POLL_SECONDS": float(env.get("TIMER_POLL_SECONDS", "1")),  # SQLite: new timers seen within
        "TIMER_MAX_IDLE_SECONDS": float(env.get("TIMER_MAX_IDLE_SECONDS", "60")),  # longest sleep between runs
        "TIMER_BATCH_SIZE": int(env.get("TIMER_BATCH_SIZE", "100")),
        "SCHEDULER_STANDBY_RETRY_SECONDS": float(env.get("SCHEDULER_STANDBY_RETRY_SECONDS", "2")),
        # the leader's lease (cases/process/lease.py): renewed every quarter of it; a leader that stops
        # renewing is replaced within this plus the standby retry
        "SCHEDULER_LEASE_SECONDS": float(env.get("SCHEDULER_LEASE_SECONDS", "10")),
        "NOTIFY_POLL_SECONDS": float(env.get("NOTIFY_POLL_SECONDS", "5")),
        # quality audits (cases/service/quality.py): the share of a period's closed cases drawn by default
        "QUALITY_AUDIT_SHARE": float(env.get("QUALITY_AUDIT_SHARE", "0.1")),
        # operations (docs/operations.md): log lines as JSON (or "text"); who may read /metrics
        "LOG_FORMAT": env.get("LOG_FORMAT", "json"),
        "METRICS_ALLOW": env.get("METRICS_ALLOW", "127.0.0.1/32,::1/128"),
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # the chat webhook (api/resources/channels.py): unset secret = the webhook refuses everything
        "CHAT_WEBHOOK_SECRET": env.get("CHAT_WEBHOOK_SECRET") or None,
        "CHAT_WEBHOOK_MAX_SKEW_SECONDS": int(env.get("CHAT_WEBHOOK_MAX_SKEW_SECONDS", "300")),
        # replies back to the chat platforms (cases/outbox/chat_posts.py): "platform=url,platform=url"
        "CHAT_REPLY_URLS": env.get("CHAT_REPLY_URLS", ""),
        "CHAT_REPLY_SECRET": env.get("CHAT_REPLY_SECRET") or None,  # unset: CHAT_WEBHOOK_SECRET
        "CHAT_REPLY_TIMEOUT": float(env.get("CHAT_REPLY_TIMEOUT", "10")),
        "CHAT_REPLY_MAX_ATTEMPTS": int(env.get("CHAT_REPLY_MAX_ATTEMPTS", "8")),
        # the inbound mail process (workers/mail_listener.py)
        "MAIL_LISTEN_HOST": env.get("MAIL_LISTEN_HOST", "127.0.0.1"),
        "MAIL_LISTEN_PORT": int(env.get("MAIL_LISTEN_PORT", "2525")),
        "MAIL_INBOUND_ADDRESSES": env.get("MAIL_INBOUND_ADDRESSES", ""),  # empty: any recipient
        "MAIL_MAX_BYTES": int(env.get("MAIL_MAX_BYTES", str(25 * 1024 * 1024))),
        **_mail(env),
        **_attachments(env),
        **_hq(env),
        **_whatif(env),
        **_scripts(env),
    }


def _scripts(env: dict[str, str]) -> dict[str, Any]:
    """Diagram scripts, conditions and decision cells in worker processes (engine/isolation/,
    docs/operations.md "Scripts"): on unless SCRIPT_ISOLATION=0."""
    return {
        "SCRIPT_ISOLATION": env.get("SCRIPT_ISOLATION", "1").strip().lower() not in ("0", "false", "no", "off"),
        "SCRIPT_WORKERS": int(env.get("SCRIPT_WORKERS", "2")),  # per web worker / scheduler process
        "SCRIPT_MEMORY_MB": int(env.get("SCRIPT_MEMORY_MB", "256")),  # growth a worker may allocate
        "SCRIPT_GRACE_SECONDS": float(env.get("SCRIPT_GRACE_SECONDS", "1")),  # beyond the 1 s limit: kill
    }


def _whatif(env: dict[str, str]) -> dict[str, Any]:
    """What-if replays (cases/whatif/history.py): a replica to read from, and the batch size."""
    replica = env.get("WHATIF_DATABASE_URL") or None
    return {"WHATIF_DATABASE_URL": _database_url({"DATABASE_URL": replica}) if replica else None,
            "WHATIF_BATCH_SIZE": int(env.get("WHATIF_BATCH_SIZE", "500"))}


def _hq(env: dict[str, str]) -> dict[str, Any]:
    """Bug reports to the HQ product team (cases/outbox/hq.py). No URL: reports are recorded only."""
    return {
        "HQ_WEBHOOK_URL": env.get("HQ_WEBHOOK_URL") or None,
        "HQ_WEBHOOK_TIMEOUT": float(env.get("HQ_WEBHOOK_TIMEOUT", "10")),
        "HQ_WEBHOOK_MAX_ATTEMPTS": int(env.get("HQ_WEBHOOK_MAX_ATTEMPTS", "8")),
    }


def _attachments(env: dict[str, str]) -> dict[str, Any]:
    """Attachments (cases/casework/attachments.py, cases/casework/storage.py)."""
    return {
        "ATTACHMENT_STORAGE": env.get("ATTACHMENT_STORAGE", "filesystem"),
        "ATTACHMENT_DIR": env.get("ATTACHMENT_DIR", str(ROOT / "instance" / "attachments")),
        "ATTACHMENT_MAX_BYTES": int(env.get("ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024))),
        "ATTACHMENT_MAX_PER_CASE": int(env.get("ATTACHMENT_MAX_PER_CASE", "100")),
    }


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _mail(env: dict[str, str]) -> dict[str, Any]:
    """Outbound mail (cases/outbox/notifications.py). No SMTP_HOST: delivery is off, mail stays queued."""
    return {
        "SMTP_HOST": env.get("SMTP_HOST") or None,
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_USERNAME": env.get("SMTP_USERNAME") or None,
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD") or None,
        "SMTP_STARTTLS": _flag(env.get("SMTP_STARTTLS")),
        "SMTP_SSL": _flag(env.get("SMTP_SSL")),
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", "30")),
        "MAIL_FROM": env.get("MAIL_FROM", "caseflow <caseflow@localhost>"),
        "NOTIFY_MAX_ATTEMPTS": int(env.get("NOTIFY_MAX_ATTEMPTS", "8")),
        "PUBLIC_BASE_URL": env.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "SURVEY_VALID_DAYS": int(env.get("SURVEY_VALID_DAYS", "14")),
    }


DEFAULTS: dict[str, Any] = {
    # the pages' session cookie (gateway/session.py): signed with SECRET_KEY, never readable by scripts
    "SESSION_COOKIE_NAME": "caseflow_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "API_TITLE": "caseflow",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/api/docs/static/",
    "API_SPEC_OPTIONS": {
        "info": {"description": "After-sales support cases, run as BPMN processes. "
                               "Get a token from POST /api/v1/auth/token and send it as "
                               "'Authorization: Bearer TOKEN'. Errors are application/problem+json."},
        "security": [{"bearerAuth": []}],
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"},
            # chat platforms: HMAC-SHA256 of "<X-Caseflow-Timestamp>.<raw body>" (docs/channels.md)
            "webhookSignature": {"type": "apiKey", "in": "header", "name": "X-Caseflow-Signature"},
        }},
    },
    "JSON_SORT_KEYS": False,
    "MAX_CONTENT_LENGTH": 1024 * 1024,  # request bodies; attachments will have their own limit
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
}
