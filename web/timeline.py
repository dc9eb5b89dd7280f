"""A case's events as the timeline on the case page, in the page's language.

Staff see every event with who did it; customers see the public events only, and staff are
shown to them as "Support" (no staff names leave the company).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from cases.casework.queries import HistoryEvent
from cases.core.db import db
from cases.core.models import CaseEvent, User
from web.display import event_step_name, local_times, moments, when, word
from web.i18n import is_chinese

LABELS = {
    "case_opened": _l("Case opened"), "case_closed": _l("Case closed"), "case_updated": _l("Case changed"),
    "task_created": _l("Task created"), "task_claimed": _l("Task taken"), "task_released": _l("Task given back"),
    "task_completed": _l("Task done"), "task_cancelled": _l("Task cancelled"), "stage_changed": _l("Stage changed"),
    "message_received": _l("Message received"), "customer_message": _l("Message from the customer"),
    "comment": _l("Comment"), "attachment_added": _l("File attached"), "attachment_refused": _l("File refused"),
    "call_logged": _l("Call logged"), "channel_conversation": _l("Chat conversation"),
    "self_service": _l("Answered by an article"), "follow_up_of": _l("Follow-up of an earlier case"),
    "sla_met": _l("SLA target met"), "sla_paused": _l("SLA clock paused"), "sla_resumed": _l("SLA clock resumed"),
    "sla_extended": _l("SLA target extended"), "sla_recomputed": _l("SLA targets recomputed"),
    "sla_escalated": _l("Escalated"), "escalation_acknowledged": _l("Escalation acknowledged"),
    "case_reassigned": _l("Case reassigned"), "case_taken_over": _l("Case taken over"),
    "task_assigned": _l("Task assigned"),
    "timer_fired": _l("Deadline reached"), "deadline_missed": _l("Deadline missed"),
    "hq_reported": _l("Reported to the product team"), "fixed_version_received": _l("Fixed version announced"),
    "process_failed": _l("Process error"), "process_retried": _l("Process retried"),
    "process_migrated": _l("Moved to a new process version"), "migration_reverted": _l("Process version move undone"),
    # complaints, surveys, replies and update notices (cases/casework/complaints.py, surveys.py, replies.py, announcements.py)
    "complaint_opened": _l("Complaint opened"), "complaint_closed": _l("Complaint closed"),
    "survey_sent": _l("Satisfaction survey sent"), "survey_answered": _l("Satisfaction survey answered"),
    "staff_reply": _l("Reply to the customer"), "customer_notified": _l("Customer notified"),
    "call_customer": _l("Call the customer back"), "update_announced": _l("Update announced"),
    "follow_ups_moved": _l("Follow-ups moved"),
    # major incidents (cases/service/major_incidents.py)
    "major_incident_declared": _l("Major incident declared"), "major_incident_linked": _l("Part of a major incident"),
    "major_incident_team": _l("Major incident team named"), "major_incident_update": _l("Major incident update"),
    "major_incident_resolved": _l("Resolved with a major incident"),
    "major_incident_escalated": _l("Major incident escalated"),
    "major_incident_process": _l("Major incident process started"),
    # training, risks and quality audits (cases/service/training.py, risks.py, quality.py)
    "training_enrolled": _l("Enrolled in a training"), "training_attended": _l("Attended a training"),
    "training_missed": _l("Missed a training"), "training_excused": _l("Excused from a training"),
    "training_rescheduled": _l("Training rescheduled"), "training_cancelled": _l("Training cancelled"),
    "risk_linked": _l("Linked to a risk"),
    "risk_reviewed": _l("Risk reviewed"), "quality_audited": _l("Quality audit"),
    "risk_review_moved": _l("Review date moved"), "risk_closed": _l("Risk closed"),
}
#: running the service (cases/service: visits, remote sessions, internal tasks)
SERVICE_LABELS = {
    "visit_proposed": _l("Visit proposed"), "visit_counter_proposed": _l("Another time proposed"),
    "visit_confirmed": _l("Visit confirmed"), "visit_reminder": _l("Visit reminder sent"),
    "visit_done": _l("Visit done"), "visit_cancelled": _l("Visit cancelled"),
    "remote_session": _l("Remote assistance"), "internal_task_created": _l("Internal task added"),
    "internal_task_done": _l("Internal task done"), "internal_task_updated": _l("Internal task changed"),
}
LABELS.update(SERVICE_LABELS)
#: how a notice went out (cases/outbox/replies.py Route.via)
VIA = {"mail": _l("by mail"), "chat": _l("by chat"), "call": _l("as a call-back note")}


#: the case fields a step or an action changes (the diagrams' caseFields, escalations, assignment)
FIELDS = {
    "category": _l("Category"), "priority": _l("Priority"), "classification_rule": _l("Classification rule"),
    "owner": _l("Owner"), "due_at": _l("Due"), "analysis": _l("Analysis"), "solution": _l("Solution"),
    "satisfaction": _l("Satisfaction"), "title": _l("Title"), "description": _l("Description"),
}


def field_label(name: str) -> str:
    label = FIELDS.get(name)
    return str(label) if label is not None else word(name)


def _value(field: str, value: object) -> str:
    """A changed value as a person reads it: display names for users, local times, code words."""
    if value is None or value == "":
        return "—"
    if field == "owner" and isinstance(value, str):
        user = db.session.scalar(select(User).where(User.username == value))
        return user.display_name if user is not None else value
    if field == "due_at" and isinstance(value, str):
        try:
            return when(datetime.fromisoformat(value))
        except ValueError:
            return value
    return word(value)


SAID = {"report": _l("Reported"), "question": _l("Support asked"), "answer": _l("Answer"),
        "solution": _l("Solution"), "reply": _l("Reply from support"), "message": _l("Message from the customer")}


def said_label(said: Any) -> str:
    return str(SAID.get(said.kind, said.kind))


def said_author(said: Any) -> str:
    """Who said it, as the viewer may know: staff names stay inside the company."""
    viewer = g.user
    if said.author is None:
        return str(_("Customer")) if said.by == "customer" else str(_("Support"))
    return _who(said.author, viewer)


def notice_text(data: dict[str, Any]) -> str:
    """A customer notice's text (a call-back note holds the chat text: Chinese lines, then the same in
    English from the line starting "[<case number>]") in the page's language; a staff reply as written."""
    text = data.get("text", "") or ""
    if not data.get("notice") or data.get("notice") == "staff_reply":
        return text
    lines = text.split("\n")
    cut = next((i for i, line in enumerate(lines) if i and line.startswith("[")), None)
    if cut is None:
        return text
    return "\n".join(lines[:cut] if is_chinese() else lines[cut:])


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    label: str
    who: str
    details: str
    shown_at: str = ""  # ``when(at)``: the moment as the page shows it


def _who(actor: User | None, viewer: User) -> str:
    if actor is None:
        return _("caseflow")
    if viewer.is_staff or actor.id == viewer.id:
        return actor.display_name
    return actor.display_name if actor.is_customer else _("Support")


def _details(event: CaseEvent | HistoryEvent, viewer: User,
             step_name: Callable[[int, dict[str, Any]], str] = event_step_name) -> str:
    data = event.data or {}
    kind = event.kind
    if kind in ("task_completed", "task_created", "task_claimed", "task_released", "task_cancelled"):
        return step_name(event.case_id, data)
    if kind in ("message_received", "customer_message"):
        payload = data.get("payload")
        text = payload.get("text") if isinstance(payload, dict) else payload if isinstance(payload, str) else None
        return text or word(data.get("message"))
    if kind == "comment":
        return data.get("text", "")
    if kind in ("attachment_added", "attachment_refused"):
        return data.get("filename", "")
    if kind == "task_assigned" and viewer.is_staff:
        return " → ".join(filter(None, [step_name(event.case_id, data), data.get("assignee")]))
    if kind in ("case_reassigned", "case_taken_over") and viewer.is_staff:
        return " → ".join(_value("owner", name) for name in (data.get("old_owner"), data.get("owner")) if name) + (
            f" · {data['reason']}" if data.get("reason") else "")
    if kind == "sla_extended":
        return " · ".join(filter(None, [word(data.get("target")), str(data.get("minutes", "")) and
                                        _("+%(m)s min", m=data.get("minutes")), data.get("reason")]))
    if kind == "case_updated" and viewer.is_staff:
        changes = {k: v for k, v in (data.get("changes") or {}).items()
                   if isinstance(v, list) and len(v) == 2 and all(x is None or isinstance(x, (str, int)) for x in v)}
        return "; ".join(f"{field_label(k)}: {_value(k, old)} → {_value(k, new)}" for k, (old, new) in changes.items())
    if kind in ("complaint_opened", "complaint_closed"):
        return " · ".join(filter(None, [data.get("complaint"), word(data.get("outcome")) if data.get("outcome") else None]))
    if kind == "survey_answered":
        return _("%(score)s of 5", score=data.get("score")) + (f" · {data['comment']}" if data.get("comment") else "")
    if kind == "staff_reply":
        return data.get("text", "")
    if kind == "call_customer":
        return notice_text(data)
    if kind == "customer_notified":
        return " ".join(filter(None, [str(VIA.get(data.get("via"), "")), data.get("to") if viewer.is_staff else None]))
    if kind == "update_announced":
        return f"{data.get('product', '')} {data.get('version', '')}".strip()
    if kind == "stage_changed":
        return word(data.get("new"))
    if kind.startswith("major_incident_"):
        return _major_incident_details(kind, data)
    if kind in ("training_enrolled", "training_attended", "training_missed", "training_excused", "risk_linked",
                "risk_reviewed"):
        return " · ".join(str(v) for v in (data.get("title"), data.get("participant"), data.get("score")) if v)
    if kind == "quality_audited":
        return f"{data.get('score')} / 100"
    if kind.startswith("visit_") and data.get("window_start"):
        window = f"{when(datetime.fromisoformat(data['window_start']))} – {when(datetime.fromisoformat(data['window_end']))}"
        return " · ".join(filter(None, [window, str(data.get("note") or data.get("reason") or "")]))
    if kind == "remote_session":
        return str(_("%(n)s minutes", n=data.get("minutes"))) + (f" · {data['summary']}" if data.get("summary") else "")
    if kind.startswith("internal_task_") and viewer.is_staff:
        return str(data.get("title", ""))
    return ""


def _major_incident_details(kind: str, data: dict[str, Any]) -> str:
    said = {"major_incident_update": data.get("text"), "major_incident_resolved": data.get("solution"),
            "major_incident_team": ", ".join(data.get("team") or []),
            "major_incident_escalated": " · ".join(filter(None, [word(data.get("target")), data.get("rung")])),
            "major_incident_process": data.get("case_number")}
    return " · ".join(filter(None, [data.get("number"), data.get("title") if kind in (
        "major_incident_declared", "major_incident_linked") else said.get(kind)]))


#: what a customer's timeline shows: what happened to their case in their words — never lanes,
#: claims, stages, SLA clocks or escalations (those events may be public for the API's history)
CUSTOMER_KINDS = frozenset({
    "case_opened", "case_closed", "message_received", "customer_message", "attachment_added", "staff_reply",
    "customer_notified", "complaint_opened", "complaint_closed", "survey_sent", "survey_answered", "self_service",
    "follow_up_of", "task_completed", "update_announced", "fixed_version_received",
    "major_incident_linked", "major_incident_update", "major_incident_resolved",
    "training_enrolled", "training_attended", "training_missed", "training_excused",
    "visit_proposed", "visit_counter_proposed", "visit_confirmed", "visit_reminder", "visit_done", "visit_cancelled",
    "remote_session",
})


def entries(history: Sequence[CaseEvent | HistoryEvent], viewer: User) -> list[Entry]:
    """Newest first (customers: the kinds of CUSTOMER_KINDS only). A label, a name, a step's name
    and a moment are made once per page each (a long-lived case has hundreds of events of a few
    kinds, by a few people, about a few steps, several in the same minute)."""
    shown = history if viewer.is_staff else [e for e in history if e.public and e.kind in CUSTOMER_KINDS]
    labels: dict[str, str] = {}
    names: dict[int | None, str] = {}
    steps: dict[tuple[int, Any, Any], str] = {}
    shown_at_of: dict[datetime, str] = {}
    moment = moments()

    def step_name(case_id: int, data: dict[str, Any]) -> str:
        key = (case_id, data.get("element"), data.get("name") or data.get("element") or "")
        try:
            return steps[key]
        except (KeyError, TypeError):  # TypeError: an unhashable value in an event's data
            found = event_step_name(case_id, data)
        try:
            steps[key] = found
        except TypeError:
            pass
        return found

    found_entries = []
    for e in reversed(shown):
        label = labels.get(e.kind)
        if label is None:
            label = labels[e.kind] = str(LABELS.get(e.kind, e.kind.replace("_", " ")))
        actor = e.actor
        key = None if actor is None else actor.id
        who = names.get(key)
        if who is None:
            who = names[key] = _who(actor, viewer)
        shown_at = shown_at_of.get(e.at) if e.at is not None else None
        if shown_at is None:
            shown_at = moment(e.at)
            if e.at is not None:
                shown_at_of[e.at] = shown_at
        found_entries.append(Entry(e.at, e.kind, label, who, local_times(_details(e, viewer, step_name)), shown_at))
    return found_entries
