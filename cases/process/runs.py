"""The one engine of the application, wired to the handler registry and the version table."""
from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import select

from cases.core.db import db
from cases.core.errors import Conflict
from cases.core.models import Case, User
from cases.core.services import ServiceContext
from cases.process.models import ProcessInstance, ProcessVersion
from engine.runtime import Engine, ProcessRun
from engine.serialization import SERIALIZER_VERSION
from handlers import REGISTRY


def _load_spec_json(content_hash: str) -> str:
    spec = db.session.scalar(select(ProcessVersion.spec_json).where(ProcessVersion.content_hash == content_hash))
    if spec is None:
        raise KeyError(f"no deployed version {content_hash}")
    return spec


@functools.cache
def get_engine() -> Engine:
    return Engine(REGISTRY, spec_loader=_load_spec_json)


def start_run(version: ProcessVersion, process_id: str, data: dict[str, Any], case: Case,
              actor: User | None) -> ProcessRun:
    return get_engine().start(version.content_hash, process_id, data, ServiceContext(case, actor))


def load_run(instance: ProcessInstance, case: Case, actor: User | None) -> ProcessRun:
    if instance.serializer_version != SERIALIZER_VERSION:
        # an engine upgrade changed the format: such instances need a tested migration first
        raise Conflict(f"instance {instance.id} was stored in engine format {instance.serializer_version}; "
                       f"this installation reads {SERIALIZER_VERSION}", code="engine_format")
    return get_engine().load(instance.version.content_hash, instance.process_id, instance.state,
                             ServiceContext(case, actor))
