"""The composition root: the app that serves the API and the pages, and the ``caseflow`` command.

``server:create_app()`` is what gunicorn runs; ``server.cli:main`` is the ``caseflow`` command.
"""
from __future__ import annotations

from server.app import MIGRATIONS_DIR, create_app, migrate

__all__ = ["MIGRATIONS_DIR", "create_app", "migrate"]
