"""Moving running cases to another deployed version: dry run, bulk move, revert.

Each instance moves in a transaction of its own (one failure does not undo the others) and
keeps its previous state, so a batch can be reverted — instance by instance, and only where the
case has not moved on since (a revert never throws away work done on the new version).
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select

from cases.core import audit, events
from cases.core.access import require_role
from cases.core.db import db, unit_of_work
from cases.core.errors import Conflict, NotFound, ValidationFailed
from cases.core.models import Case, User, utcnow
from cases.process.after_step import synchronise
from cases.process.locking import lock_instance
from cases.process.models import InstanceMigration, InstanceStatus, MigrationBatch, ProcessInstance, ProcessVersion
from cases.process.runs import ServiceContext, get_engine, load_run
from engine.errors import EngineError
from engine.migration import MigrationBlocked, Reason

DEPLOYERS = ("admin", "process_owner")


@dataclass(frozen=True)
class Verdict:
    instance_id: int
    case_id: int
    case_number: str | None
    migratable: bool
    reasons: tuple[Reason, ...]  # rendered by the page or the API in the reader's language


@dataclass
class Outcome:
    batch: str
    moved: list[int] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {instance_id, reasons: [Reason]}
    mapping: dict[str, str] | None = None


def _versions(from_id: int, to_id: int) -> tuple[ProcessVersion, ProcessVersion]:
    found = {v.id: v for v in db.session.scalars(select(ProcessVersion).where(ProcessVersion.id.in_([from_id, to_id])))}
    missing = [f"{name}" for name, vid in (("from_version", from_id), ("to_version", to_id)) if vid not in found]
    if missing:
        raise ValidationFailed("unknown version", [{"field": n, "message": "no such version"} for n in missing])
    if from_id == to_id:
        raise ValidationFailed("nothing to move", [{"field": "to_version", "message": "same as from_version"}])
    return found[from_id], found[to_id]


def movable_count(user: User, from_id: int, case_ids: list[int] | None = None) -> int:
    """How many running cases a migration from ``from_id`` would try to move (what an owner confirms)."""
    require_role(user, *DEPLOYERS)
    version = db.session.get(ProcessVersion, from_id)
    return len(_movable_instances(version, case_ids)) if version is not None else 0


def _movable_instances(version: ProcessVersion, case_ids: list[int] | None = None) -> list[ProcessInstance]:
    query = select(ProcessInstance).where(ProcessInstance.version_id == version.id,
                                          ProcessInstance.status != InstanceStatus.COMPLETED.value)
    if case_ids is not None:
        query = query.where(ProcessInstance.case_id.in_(case_ids))
    return list(db.session.scalars(query.order_by(ProcessInstance.id)))


def _checked_mapping(source: ProcessVersion, target: ProcessVersion,
                     mapping: Mapping[str, str] | None) -> dict[str, str] | None:
    """The owner's mapping of renamed element ids {old: new}, refused (422 naming ``mapping.<old>``)
    unless every old id is a user task the target no longer has and every new one a user task of
    the target in the same process, each new id the target of one old id."""
    if not mapping:
        return None
    problems = get_engine().mapping_problems(source.content_hash, target.content_hash, mapping)
    if problems:
        raise ValidationFailed("the mapping of renamed steps cannot be used", [
            {"field": f"mapping.{old}", "message": reason.text("en"), "code": reason.code, "params": reason.params}
            for old, reason in problems.items()])
    return dict(mapping)


def dry_run(user: User, from_id: int, to_id: int, case_ids: list[int] | None = None,
            mapping: Mapping[str, str] | None = None) -> list[Verdict]:
    """Per running case of ``from``: can it move to ``to`` (with the renamed ids ``mapping``), and if not, why."""
    require_role(user, *DEPLOYERS)
    source, target = _versions(from_id, to_id)
    mapping = _checked_mapping(source, target, mapping)
    engine = get_engine()
    verdicts = []
    for instance in _movable_instances(source, case_ids):
        case = db.session.get(Case, instance.case_id)
        check = engine.check_migration(source.content_hash, instance.process_id, instance.state,
                                       target.content_hash, ServiceContext(case, user), forms=target.forms,
                                       mapping=mapping)
        verdicts.append(Verdict(instance.id, case.id, case.number, check.migratable, check.reasons))
    db.session.rollback()
    return verdicts


def _move(user: User, instance_id: int, source: ProcessVersion, target: ProcessVersion, batch: str,
          mapping: dict[str, str] | None = None) -> None:
    with unit_of_work():
        instance = lock_instance(id=instance_id)
        if instance.version_id != source.id:
            raise MigrationBlocked((Reason("move_not_on_source"),))
        case = db.session.get(Case, instance.case_id)
        previous = instance.state
        check = get_engine().check_migration(source.content_hash, instance.process_id, previous,
                                             target.content_hash, ServiceContext(case, user), forms=target.forms,
                                             mapping=mapping)
        if not check.migratable:  # what the dry run says, the move does
            raise MigrationBlocked(check.reasons)
        run = get_engine().migrate(source.content_hash, instance.process_id, previous, target.content_hash,
                                   ServiceContext(case, user), mapping)
        instance.version_id, instance.version = target.id, target
        synchronise(case, instance, run, user)
        db.session.flush()
        db.session.add(InstanceMigration(
            batch=batch, instance_id=instance.id, case_id=case.id, from_version_id=source.id,
            to_version_id=target.id, previous_state=previous, lock_version_after=instance.lock_version,
            state_after=instance.state,
            migrated_by_id=user.id))
        events.record(case, "process_migrated", user, batch=batch, from_version=source.content_hash,
                      to_version=target.content_hash)
        progress_row = db.session.get(MigrationBatch, batch)
        progress_row.moved += 1


def _count(batch: str, field_name: str) -> None:
    with unit_of_work():
        row = db.session.get(MigrationBatch, batch)
        setattr(row, field_name, getattr(row, field_name) + 1)


def _failed(exc: EngineError) -> list[Reason]:
    if isinstance(exc, MigrationBlocked):
        return list(exc.reasons)
    element = getattr(exc, "element", None)
    detail = getattr(exc, "message", None) or str(exc)
    return [Reason("move_failed_at", {"element": element, "detail": detail}) if element
            else Reason("move_failed", {"detail": detail})]


def migrate_all(user: User, from_id: int, to_id: int, case_ids: list[int] | None = None,
                expected_moves: int | None = None, mapping: Mapping[str, str] | None = None) -> Outcome:
    """Move every movable running case of ``from`` to ``to`` (renamed ids moved by ``mapping``
    {old: new}, kept with the batch); report the ones that stay.

    Progress is committed after every case (``GET /api/v1/migrations/{batch}`` while it runs)."""
    require_role(user, *DEPLOYERS)
    source, target = _versions(from_id, to_id)
    mapping = _checked_mapping(source, target, mapping)
    outcome = Outcome(batch=str(uuid.uuid4()), mapping=mapping)
    ids = [i.id for i in _movable_instances(source, case_ids)]
    if expected_moves is not None and expected_moves != len(ids):
        raise Conflict(f"{len(ids)} running case(s) would be moved, not {expected_moves}: the cases changed since "
                       "the confirmation; look again (dry run) and confirm the new number")
    with unit_of_work():
        db.session.add(MigrationBatch(id=outcome.batch, from_version_id=source.id, to_version_id=target.id,
                                      total=len(ids), started_by_id=user.id, started_at=utcnow(), mapping=mapping))
    for instance_id in ids:
        try:
            _move(user, instance_id, source, target, outcome.batch, mapping)
        except EngineError as exc:
            outcome.skipped.append({"instance_id": instance_id, "reasons": _failed(exc)})
            _count(outcome.batch, "skipped")
        else:
            outcome.moved.append(instance_id)
    with unit_of_work():
        row = db.session.get(MigrationBatch, outcome.batch)
        row.status, row.finished_at = "done", utcnow()
        audit.record(user, "migrate", outcome.batch, from_version=source.id, to_version=target.id,
                     moved=len(outcome.moved), skipped=len(outcome.skipped), **({"mapping": mapping} if mapping else {}))
    return outcome


def cases_of(instance_ids: list[int]) -> dict[int, Case]:
    """instance id -> its case, for listing an outcome's instances by case."""
    if not instance_ids:
        return {}
    rows = db.session.execute(select(ProcessInstance.id, Case).join(Case, Case.id == ProcessInstance.case_id)
                              .where(ProcessInstance.id.in_(instance_ids)))
    return {key: value for key, value in rows}  # noqa: C416  (a Result is not a mapping source)


def progress(user: User, batch: str) -> MigrationBatch:
    require_role(user, *DEPLOYERS)
    row = db.session.get(MigrationBatch, batch[:36])
    if row is None:
        raise NotFound(f"migration {batch} not found", resource="migration", id=batch)
    return row


def _revert_one(user: User, row_id: int) -> Reason | None:
    """Undo one move; returns why not, or None when it was undone."""
    with unit_of_work():
        row = db.session.get(InstanceMigration, row_id)
        instance = lock_instance(id=row.instance_id)
        untouched = (instance.state == row.state_after if row.state_after is not None
                     else instance.lock_version == row.lock_version_after)
        if not untouched or instance.version_id != row.to_version_id:
            return Reason("revert_moved_on")
        source = db.session.get(ProcessVersion, row.from_version_id)
        case = db.session.get(Case, row.case_id)
        instance.version_id, instance.version = source.id, source
        instance.state = row.previous_state
        run = load_run(instance, case, user)
        synchronise(case, instance, run, user)
        row.reverted_at = utcnow()
        if instance.status != InstanceStatus.ERROR.value:
            # a user step the new version refused belongs to it: its note goes with the move
            instance.error_message = instance.error_element = instance.error_at = None
        events.record(case, "migration_reverted", user, batch=row.batch)
    return None


def revert(user: User, batch: str, case_ids: list[int] | None = None) -> Outcome:
    """Move the cases of a batch (or only ``case_ids`` of it) back, where no step was completed
    since the move."""
    require_role(user, *DEPLOYERS)
    rows = list(db.session.scalars(select(InstanceMigration.id).where(InstanceMigration.batch == batch)))
    if not rows:
        raise NotFound(f"migration {batch} not found", resource="migration", id=batch)
    query = select(InstanceMigration).where(InstanceMigration.batch == batch, InstanceMigration.reverted_at.is_(None))
    if case_ids is not None:
        query = query.where(InstanceMigration.case_id.in_(case_ids))
    pending = list(db.session.scalars(query))
    db.session.rollback()
    outcome = Outcome(batch=batch)
    for row in pending:
        reason = _revert_one(user, row.id)
        if reason is None:
            outcome.moved.append(row.instance_id)
        else:
            outcome.skipped.append({"instance_id": row.instance_id, "reasons": [reason]})
    with unit_of_work():
        audit.record(user, "revert_migration", batch, moved_back=len(outcome.moved), stayed=len(outcome.skipped))
    return outcome
