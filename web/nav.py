"""The navigation bar: one entry per page, shown to the users the permission table lets in."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, g, request, url_for
from flask_babel import lazy_gettext as _l

from gateway.permissions import MATRIX


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy translation
    #: further endpoints under this entry (marked as the current one)
    also: tuple[str, ...] = ()


#: in the order shown; a new page adds its entry here (it appears for the roles MATRIX allows)
NAVIGATION: list[NavItem] = [
    NavItem("inbox.inbox", _l("Inbox"), ("task_pages.task",)),
    NavItem("case_pages.cases", _l("Cases"), ("case_pages.case",)),
    NavItem("case_pages.new_case", _l("New case")),
    NavItem("case_actions.callbacks", _l("Call-backs")),
    NavItem("board.board", _l("Escalations")),
    NavItem("customer_pages.index", _l("Customers")),
    NavItem("staffing_pages.index", _l("Assignment")),
    NavItem("announcement_pages.index", _l("Updates")),
    NavItem("major_incident_pages.index", _l("Major incidents"), ("major_incident_pages.incident",
                                                                  "major_incident_pages.new")),
    NavItem("problem_pages.index", _l("Recurring problems")),
    NavItem("owner.processes", _l("Processes"), ("owner.version", "owner.editor", "owner.migrations", "owner.dry_run",
                                                 "owner.migrate", "owner.revert", "owner.deploy_files",
                                                 "owner.form_editor")),
    NavItem("kpi.dashboard", _l("KPIs")),
    NavItem("service_review_page.index", _l("Service review"), ("service_review_page.printable",)),
    NavItem("sla_pages.policy", _l("SLA"), ("sla_pages.calendar_list", "sla_pages.calendar")),
    NavItem("training_pages.index", _l("Training"), ("training_pages.session",)),
    NavItem("risk_pages.index", _l("Risks"), ("risk_pages.risk",)),
    NavItem("quality_pages.index", _l("Quality"), ("quality_pages.audit",)),
    NavItem("whatif_page.index", _l("What if"), ("whatif_page.run", "whatif_page.explain", "whatif_page.compare")),
    NavItem("service_pages.tasks", _l("Internal tasks")),
    NavItem("service_pages.catalogue_page", _l("Service catalogue")),
    NavItem("portal.home", _l("My cases")),
    NavItem("portal.new_case", _l("New case")),
    NavItem("knowledge_pages.index", _l("Knowledge base"), ("knowledge_pages.article", "knowledge_pages.new",
                                                           "knowledge_pages.edit", "knowledge_pages.canned_answers",
                                                           "knowledge_pages.canned_edit")),
]


def allowed(endpoint: str, method: str = "GET") -> bool:
    user = g.get("user")
    roles, _purpose = MATRIX.get((endpoint, method), (frozenset(), ""))
    return user is not None and user.has_role(*roles)


def navigation() -> list[dict]:
    return [{"url": url_for(item.endpoint), "label": item.label,
             "active": request.endpoint in (item.endpoint, *item.also)}
            for item in NAVIGATION if allowed(item.endpoint)]


def register(app: Flask) -> None:
    app.jinja_env.globals.update(navigation=navigation, allowed=allowed)
    app.context_processor(lambda: {"current_user": g.get("user")})
