"""How values look on a page: the SLA clock, durations, dates and the domain's code words,
in the page's language."""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel.dates import get_timezone_gmt, get_timezone_name
from flask import Flask, current_app, g, has_request_context, request
from flask_babel import format_date, get_babel, get_locale, get_timezone, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cases.casework.filetypes import IMAGE_TYPES
from cases.core.db import db
from cases.core.models import Case, Role, Task, utcnow
from cases.process import forms, names
from cases.process.models import ProcessInstance
from cases.process.taskrules import can_work_on
from cases.sla import clock as sla
from web.i18n import is_chinese, localized

T = TypeVar("T")

#: the domain's code words (statuses, priorities, categories, SLA targets, channels, roles)
WORDS = {
    "open": _l("open"), "closed": _l("closed"), "cancelled": _l("cancelled"), "completed": _l("completed"),
    "urgent": _l("urgent"), "high": _l("high"), "medium": _l("medium"), "low": _l("low"),
    "software_bug": _l("Software bug"), "data_problem": _l("Data problem"),
    "new_requirement": _l("New requirement"), "environment_problem": _l("Environment problem"),
    "operation_problem": _l("Operation problem"), "general_consultation": _l("General consultation"),
    "configuration_problem": _l("Configuration problem"), "performance_problem": _l("Performance problem"),
    "complaint": _l("Complaint"), "special_service": _l("Special service"), "hardware_repair": _l("Hardware repair"),
    "first_response": _l("First response"), "next_update": _l("Next update"), "resolution": _l("Resolution"),
    "breached": _l("breached"), "at_risk": _l("at risk"), "running": _l("running"), "paused": _l("paused"),
    "met": _l("met"),
    # an article's status (cases/knowledge/articles.py)
    "draft": _l("draft"), "published": _l("published"),
    # the kinds of case (cases.models.CaseKind)
    "support": _l("Support case"), "follow_up": _l("Follow-up programme"), "risk_review": _l("Risk review"),
    "major_incident": _l("Major incident"),
    "visit": _l("On-site visit"), "maintenance": _l("Maintenance schedule"),
    "internal": _l("internal"),
    "web": _l("web"), "phone": _l("phone"), "email": _l("e-mail"), "chat": _l("chat"), "api": _l("API"),
    "agent": _l("Service desk"), "service_consultant": _l("Service consultant"), "supervisor": _l("Supervisor"),
    "business_manager": _l("Business manager"), "technical_lead": _l("Technical lead"),
    "complaint_officer": _l("Complaint officer"), "process_owner": _l("Process owner"), "admin": _l("Administrator"),
    "customer": _l("Customer"), "manager": _l("Customer service manager"),
    "standard": _l("standard"), "vip": _l("VIP"),
    "warning": _l("warning"), "breach": _l("breach"), "category": _l("Category"), "priority": _l("Priority"),
    # the stages of a case (the diagrams' caseStage properties, cases/process/after_step.py)
    "intake": _l("intake"), "classifying": _l("classifying"), "assigning": _l("assigning"),
    "in_progress": _l("in progress"), "processing": _l("processing"), "advising": _l("advising"),
    "answering": _l("answering"), "awaiting_confirmation": _l("awaiting confirmation"),
    "callback": _l("callback"), "delivering_update": _l("delivering an update"),
    "escalated": _l("escalated"), "negotiating": _l("negotiating"), "repairing": _l("repairing"),
    "requirement_assessment": _l("requirement assessment"), "requirement_contact": _l("requirement contact"),
    "requirement_delivery": _l("requirement delivery"), "training": _l("training"),
    "waiting:customer_reply": _l("waiting for the customer's answer"),
    "waiting:customer_data": _l("waiting for the customer's data"),
    "waiting:fixed_version": _l("waiting for a fixed version"),
    "waiting:requirement_acceptance": _l("waiting for the customer's acceptance"),
    # the answers of the forms' choices (forms/*.schema.json)
    "im": _l("instant messaging"), "online": _l("online"), "on_site": _l("on site"), "remote": _l("remote"),
    "upheld": _l("upheld"), "partly_upheld": _l("partly upheld"), "not_upheld": _l("not upheld"),
    "likely": _l("likely"), "uncertain": _l("uncertain"), "unlikely": _l("unlikely"),
    "repaired": _l("repaired"), "replaced": _l("replaced"), "not_repairable": _l("not repairable"),
    "resolved": _l("Resolved: ask the customer to confirm"), "need_info": _l("Ask the customer for more information"),
    "advised": _l("Advised: ask the customer to confirm"), "need_data": _l("Wait for data from the customer"),
    "approve": _l("Approve: send the response to the customer"), "send_back": _l("Send back to the complaint officer"),
    "continue": _l("Back to the owner for another round"), "close": _l("Close the case (callback follows)"),
}


def word(code: Any) -> str:
    """A code word in the page's language (unknown codes as they are)."""
    if code is None:
        return "—"
    found = WORDS.get(str(code))
    return str(found) if found is not None else str(code).replace("_", " ")


#: pattern fields whose text a moment's seconds or its zone can change within one local minute
#: (seconds, fractions, zones, and the day periods b/B, which babel compares to the second)
_FINER_THAN_A_MINUTE = frozenset("sSAzZvVOxXbB")


def _by_the_minute(pattern: str, locale: Any) -> bool:
    """Whether ``format_datetime(moment, pattern)`` depends on the moment's local minute (wall
    time and offset) only: then two moments of one minute read the same."""
    if pattern in ("full", "long", "medium", "short"):  # "{1} {0}" of the date and time patterns
        texts = [locale.date_formats[pattern].pattern, locale.time_formats[pattern].pattern]
    else:
        texts = [pattern]
    return not any(kind == "field" and value[0] in _FINER_THAN_A_MINUTE
                   for text in texts for kind, value in babel_dates.tokenize_pattern(text))


def _short_datetime() -> tuple[str, Any, Any, dict[Any, str] | None]:
    pattern = get_babel().instance.date_formats["datetime.short"] or "short"
    locale = get_locale()
    return pattern, get_timezone(), locale, {} if locale is not None and _by_the_minute(pattern, locale) else None


def when(moment: datetime | None) -> str:
    """A moment in the pages' time zone (the page then names the zone: ``zone_note``): Flask-Babel's
    ``format_datetime(moment, "short")``, with the locale, the zone and the format looked up once per
    request (a timeline of a thousand events shows a thousand moments), and each local minute
    formatted once per request when the format shows minutes at most (a step writes its events in
    the same minute)."""
    if not moment:
        return "—"
    g.shows_times = True
    return _shown(moment, *_per_request("caseflow.short_datetime", _short_datetime))


def _shown(moment: datetime, pattern: str, zone: Any, locale: Any, minutes: dict[Any, str] | None) -> str:
    if minutes is None:
        return str(babel_dates.format_datetime(moment, pattern, tzinfo=zone, locale=locale))
    local = (moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)).astimezone(zone)
    key = (local.replace(second=0, microsecond=0, tzinfo=None), local.utcoffset())
    text = minutes.get(key)
    if text is None:
        text = minutes[key] = str(babel_dates.format_datetime(moment, pattern, tzinfo=zone, locale=locale))
    return text


def moments() -> Callable[[datetime | None], str]:
    """``when``, with the request's format looked up once, for a page of many moments (a timeline)."""
    if not has_request_context():
        return when
    found = _per_request("caseflow.short_datetime", _short_datetime)
    told = False

    def shown(moment: datetime | None) -> str:
        nonlocal told
        if not moment:
            return "—"
        if not told:
            g.shows_times = told = True
        return _shown(moment, *found)
    return shown


def _per_request(key: str, make: Callable[[], T]) -> T:
    """``make()``, once per request (kept in the request's environ: ``g`` may outlive a request
    when an application context is pushed around several, as tests do)."""
    if not has_request_context():
        return make()
    if key not in request.environ:
        request.environ[key] = make()
    value: T = request.environ[key]
    return value


def page_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("WEB_TIMEZONE", "Asia/Shanghai"))


def zone_name(moment: datetime | None = None) -> str:
    """The pages' time zone as people read it, e.g. 'China Standard Time (GMT+08:00, Asia/Shanghai)'."""
    zone = page_zone()
    local = (moment or utcnow()).astimezone(zone)
    return str(_("%(name)s (%(offset)s, %(zone)s)", name=get_timezone_name(local, "long", locale=get_locale()),
             offset=get_timezone_gmt(local, locale=get_locale()), zone=zone.key))


def zone_note() -> str | None:
    """For the foot of a page that showed a time: the zone its times are in."""
    return str(_("Times are in %(zone)s.", zone=zone_name())) if g.get("shows_times") else None


_ISO_MOMENT = re.compile(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})")


def local_times(text: str) -> str:
    """``text`` with each ISO 8601 moment with an offset (as events store them) in the pages' zone."""
    def local(found: re.Match[str]) -> str:
        try:
            return when(datetime.fromisoformat(found.group(0).replace("Z", "+00:00")))
        except ValueError:
            return found.group(0)
    return _ISO_MOMENT.sub(local, text)


def may_claim(task: Task) -> bool:
    """Show the claim button: the user may work on the task and it is free (a supervisor may
    take a staff task over from someone else)."""
    user = g.user
    if not task.is_open or task.assignee_id == user.id or not can_work_on(user, task):
        return False
    return task.assignee_id is None or (user.is_staff and user.has_role(Role.SUPERVISOR.value))


def _version_of(instance_id: int | None) -> int | None:
    """The process version of an instance: from the session when loaded, else its one column
    (not the row: it carries the whole engine state), once per request."""
    if not instance_id:
        return None
    loaded = db.session.identity_map.get(db.session.identity_key(ProcessInstance, instance_id))
    if loaded is not None:
        return loaded.version_id  # type: ignore[no-any-return]
    versions: dict[int, int | None] = _per_request("caseflow.instance_versions", dict)
    if instance_id not in versions:
        versions[instance_id] = db.session.scalar(
            select(ProcessInstance.version_id).where(ProcessInstance.id == instance_id))
    return versions[instance_id]


def task_title(task: Task) -> str:
    """A task's name in the page's language: its form's title (``x-title-zh`` in Chinese), else
    its name in the diagram."""
    version_id = _version_of(task.instance_id)
    if task.form and version_id is not None:
        title = localized(forms.schema(version_id, task.form))
        if title:
            return title
    return step_name(task)


def step_name(task: Task) -> str:
    """The task's step (element) name from the diagram in the page's language (``nameZh``)."""
    return names.element_name(_version_of(task.instance_id), task.element_id, task.name, is_chinese())


def _version_of_case(case_id: int) -> int | None:
    """The process version of the case's instance, read once per request (a timeline of a thousand
    events names a step in most of them; the instance row carries the whole engine state)."""
    versions: dict[int, int | None] = _per_request("caseflow.case_process_versions", dict)
    if case_id not in versions:
        versions[case_id] = db.session.scalar(
            select(ProcessInstance.version_id).where(ProcessInstance.case_id == case_id))
    return versions[case_id]


def event_step_name(case_id: int, data: dict[str, Any]) -> str:
    """The step a history event names (``element`` / ``name`` of its data) in the page's language."""
    fallback = data.get("name") or data.get("element") or ""
    return names.element_name(_version_of_case(case_id), data.get("element"), fallback, is_chinese())


def case_step_names(case_id: int, element_ids: list[str]) -> list[str]:
    """Diagram elements (a process, the steps of the case diagram) by their names in the page's language."""
    return [event_step_name(case_id, {"element": e}) for e in element_ids]


_COMPLAINT_TITLE = re.compile(r"^Complaint about (?P<number>\S+): (?P<title>.*)$", re.S)
_FOLLOW_UP_TITLE = re.compile(r"^Follow-ups after the deployment on (?P<day>\d{4}-\d{2}-\d{2})$")
_FOLLOW_UP_TEXT = re.compile(r"^Follow-up calls and surveys at (?P<months>[\d, ]+) months after (?P<customer>.*) "
                             r"went live on (?P<day>\d{4}-\d{2}-\d{2})\.$", re.S)


def case_title(case: Case) -> str:
    """The case's title; the titles caseflow writes itself (a complaint's, a follow-up programme's)
    in the page's language."""
    title = case.title or ""
    found = _COMPLAINT_TITLE.match(title)
    if found and case.kind == "complaint":
        return str(_("Complaint about %(number)s: %(title)s", number=found["number"], title=found["title"]))
    found = _FOLLOW_UP_TITLE.match(title)
    if found and case.kind == "follow_up":
        return str(_("Follow-ups after the deployment on %(day)s", day=day(found["day"])))
    return title


def case_description(case: Case) -> str:
    """The case's description; a follow-up programme's generated one in the page's language."""
    text = case.description or ""
    found = _FOLLOW_UP_TEXT.match(text)
    if found and case.kind == "follow_up":
        return str(_("Follow-up calls and surveys at %(months)s months after %(customer)s went live on %(day)s.",
                     months=found["months"], customer=found["customer"], day=day(found["day"])))
    return text


def day(iso: str) -> str:
    try:
        return str(format_date(date.fromisoformat(iso), "medium"))
    except ValueError:
        return iso


def working_time(seconds: int) -> str:
    """A business-time span in working hours (never 24-hour days: a target counts working time),
    e.g. '31 working hours', '2 working hours 05 min', '40 working minutes'."""
    minutes = abs(int(seconds)) // 60
    hours, mins = divmod(minutes, 60)
    if not hours:
        return ngettext("%(num)d working minute", "%(num)d working minutes", mins)
    if mins and hours < 10:
        return ngettext("%(num)d working hour %(m)02d min", "%(num)d working hours %(m)02d min", hours, m=mins)
    return ngettext("%(num)d working hour", "%(num)d working hours", hours)


def clock(case: Case, now: datetime | None = None) -> dict[str, Any] | None:
    """The case's next running SLA target — the one due first, as the inbox orders by — with a
    sentence for the page, and beside it the targets already met (``met``: sentences, e.g.
    "first response: met 2 working hours late"); a paused target when none runs; None without targets."""
    now = now or utcnow()
    targets = sla.view(case, now)["targets"]
    running = [t for t in targets if t["state"] == "running" and t["due_at"] is not None]
    paused = [t for t in targets if t["state"] == "paused"]
    met = [met_text(t) for t in targets if t["state"] == "met"]
    if running:
        target = min(running, key=lambda t: (t["due_at"], t["kind"]))
    elif paused:
        target = min(paused, key=lambda t: t["remaining_seconds"])
    else:
        return None
    return dict(target, text=clock_text(target), met=met)


def met_text(target: dict[str, Any]) -> str:
    kind, late = word(target["kind"]), -target["remaining_seconds"]
    if target["breached_at"] is not None or late > 0:
        return _("%(kind)s: met %(late)s late", kind=kind, late=working_time(max(late, 0)))
    return _("%(kind)s: met", kind=kind)


def clock_text(target: dict[str, Any]) -> str:
    remaining = target["remaining_seconds"]
    kind = word(target["kind"])
    if target["state"] == "met":
        return met_text(target)
    if target["status"] == "paused":
        return _("%(kind)s: paused, %(left)s left", kind=kind, left=working_time(remaining))
    if remaining < 0 or target["status"] == "breached":
        return _("%(kind)s: overdue by %(late)s", kind=kind, late=working_time(remaining))
    return _("%(kind)s: %(left)s left", kind=kind, left=working_time(remaining))


def register(app: Flask) -> None:
    app.jinja_env.globals.update(word=word, when=when, sla_clock=clock, clock_text=clock_text, task_title=task_title,
                                 step_name=step_name, case_step_names=case_step_names, case_title=case_title, case_description=case_description,
                                 may_claim=may_claim, IMAGE_TYPES=IMAGE_TYPES,
                                 zone_note=zone_note, zone_name=zone_name)
