"""``caseflow deploy``: loading the files of processes/ and forms/ without undoing an owner's deploy.

A restart (``make run``, the compose ``migrate`` step) runs ``caseflow deploy``. It loads the files
only into an empty installation, or when told to (``activate``); otherwise the active version stays
as it is and the outcome says how the files compare to it."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select

from cases.core.db import db, use_case
from cases.process.deploy import active_version, content_hash, deploy
from cases.process.models import ProcessVersion

#: what ``load`` did
INSTALLED = "installed"        # an empty installation: the files are the first version, active
DEPLOYED = "deployed"          # told to: the files are a new version, now active
REACTIVATED = "reactivated"    # told to: the files are an older version, active again
UNCHANGED = "unchanged"        # the files are the active version: nothing to do
KEPT = "kept"                  # the files differ from the active version: not loaded, active kept


@dataclass(frozen=True)
class LoadOutcome:
    action: str
    #: the version new cases start on after the call
    active: ProcessVersion
    #: the version holding exactly these files, if any (None: they are in no version)
    files_version: ProcessVersion | None


def _version_with(key: str) -> ProcessVersion | None:
    return db.session.scalar(select(ProcessVersion).where(ProcessVersion.content_hash == key))


@use_case
def load(processes: Mapping[str, bytes], forms: Mapping[str, bytes], activate: bool = False) -> LoadOutcome:
    """Load files from disk: into an empty installation, or (``activate``) as the active version."""
    empty = not db.session.scalar(select(func.count()).select_from(ProcessVersion))
    key = content_hash(processes, forms)
    if not empty and not activate:
        active = active_version()
        found = _version_with(key)
        return LoadOutcome(UNCHANGED if found is not None and found.id == active.id else KEPT, active, found)
    before = active_version()
    was_active = before is not None and before.content_hash == key
    version, created = deploy(processes, forms)
    if empty:
        action = INSTALLED
    elif created:
        action = DEPLOYED
    else:
        action = UNCHANGED if was_active else REACTIVATED
    return LoadOutcome(action, version, version)
