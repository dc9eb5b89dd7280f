"""The service report of a case (seeds 001, 004: 提供详细的服务报告, 记录解决方案、耗时): for the
customer, what was reported, what was done (visits with their repair logs, remote sessions), the
time spent and the solution — read by the case page, its print view and the CSV.

Time spent, in minutes: on site (the repair logs), remote (the sessions' lengths) and other work on
the case (the internal tasks' recorded time). A customer sees the three sums but never the internal
tasks themselves; staff see them listed too. Labels are message ids (``N_``) the page translates;
the CSV takes the translating function of the language asked for.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from cases.core.access import visible_case
from cases.core.db import db
from cases.core.models import Case, User
from cases.core.texts import N_
from cases.service.visit_models import InternalTask, RemoteSession, Visit

ON_SITE, REMOTE, OTHER = N_("On site"), N_("Remote assistance"), N_("Other work on the case")
RESULT_LABELS = {"repaired": N_("repaired"), "replaced": N_("replaced"), "not_repairable": N_("not repairable"),
                 "advised": N_("advised")}


@dataclass(frozen=True)
class Line:
    at: datetime
    kind: str  # ON_SITE, REMOTE or OTHER (a label)
    what: str
    minutes: int
    who: str | None = None
    parts: tuple[str, ...] = ()
    result: str | None = None  # a RESULT_LABELS label


@dataclass(frozen=True)
class Charge:
    what: str
    in_warranty: bool
    amount: float


@dataclass(frozen=True)
class ServiceReport:
    case: Case
    lines: tuple[Line, ...]
    minutes: dict[str, int]  # by kind label
    charges: tuple[Charge, ...]
    for_customer: bool

    @property
    def total_minutes(self) -> int:
        return sum(self.minutes.values())

    @property
    def total_charge(self) -> float:
        return sum(c.amount for c in self.charges)


def _visit_lines(visits: list[Visit]) -> list[Line]:
    lines = []
    for visit in visits:
        for log in visit.logs:
            lines.append(Line(log.arrived_at, ON_SITE, f"{visit.purpose}\n{log.notes}".strip(), log.minutes,
                              visit.technician.display_name if visit.technician else None, tuple(log.parts),
                              RESULT_LABELS.get(log.result)))
    return lines


def build(user: User, case_id: int) -> ServiceReport:
    case = visible_case(user, case_id)
    visits = list(db.session.scalars(select(Visit).where(Visit.case_id == case.id).order_by(Visit.id)))
    sessions = list(db.session.scalars(select(RemoteSession).where(RemoteSession.case_id == case.id)
                                       .order_by(RemoteSession.started_at)))
    tasks = list(db.session.scalars(select(InternalTask).where(InternalTask.case_id == case.id,
                                                               InternalTask.state == "done")
                                    .order_by(InternalTask.done_at)))
    lines = _visit_lines(visits)
    lines += [Line(s.started_at, REMOTE, s.summary, s.minutes, s.staff.display_name) for s in sessions]
    minutes = {ON_SITE: sum(line.minutes for line in lines if line.kind == ON_SITE),
               REMOTE: sum(line.minutes for line in lines if line.kind == REMOTE),
               OTHER: sum(t.minutes_spent or 0 for t in tasks)}
    if not user.is_customer:
        lines += [Line(t.done_at or t.created_at, OTHER, t.title + (f"\n{t.outcome}" if t.outcome else ""),
                       t.minutes_spent or 0, t.assignee.display_name if t.assignee else None) for t in tasks]
    lines.sort(key=lambda line: line.at)
    charges = tuple(Charge(f"{v.catalogue_item.name_zh} / {v.catalogue_item.name_en}" if v.catalogue_item
                           else v.purpose, v.in_warranty, v.charge_cents / 100)
                    for v in visits if v.status == "done")
    return ServiceReport(case, tuple(lines), minutes, charges, user.is_customer)


def as_csv(report: ServiceReport, translate: Callable[[str], str]) -> str:
    """The report as rows (section, date, item, minutes, ...) in the language ``translate`` speaks;
    a byte order mark first, so that Excel reads UTF-8."""
    t, case = translate, report.case
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([t("Section"), t("Date"), t("Item"), t("Minutes"), t("By"), t("Parts"), t("Result")])
    writer.writerow([t("Case"), case.created_at.date().isoformat(), f"{case.number} {case.title}", "", "", "", ""])
    writer.writerow([t("Reported"), case.created_at.date().isoformat(), case.description, "", "", "", ""])
    for line in report.lines:
        writer.writerow([t(line.kind), line.at.date().isoformat(), line.what, line.minutes, line.who or "",
                         "; ".join(line.parts), t(line.result) if line.result else ""])
    for kind, minutes in report.minutes.items():
        writer.writerow([t("Time spent"), "", t(kind), minutes, "", "", ""])
    writer.writerow([t("Time spent"), "", t("Total"), report.total_minutes, "", "", ""])
    for charge in report.charges:
        writer.writerow([t("Charge"), "", charge.what, "", "", "", t("in warranty") if charge.in_warranty
                         else f"{charge.amount:.2f}"])
    writer.writerow([t("Solution"), case.closed_at.date().isoformat() if case.closed_at else "", case.solution or "",
                     "", "", "", ""])
    return "\ufeff" + out.getvalue()


def filename(report: ServiceReport) -> str:
    return f"service_report_{report.case.number}.csv"


# the CSV's own words, collected for translation
CSV_WORDS = (N_("Section"), N_("Date"), N_("Item"), N_("Minutes"), N_("By"), N_("Parts"), N_("Result"), N_("Case"),
             N_("Reported"), N_("Time spent"), N_("Total"), N_("Charge"), N_("in warranty"), N_("Solution"))
