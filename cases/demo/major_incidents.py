"""Demo data: one open major incident — declared from a case by the supervisor, a second customer's
case linked, a team of two consultants, one update sent to both customers — and, among the demo
history's recurring problems, the largest group marked as a known problem with its workaround in a
knowledge-base article (cases/service/)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cases.casework import intake
from cases.casework import tasks as work
from cases.core.db import db
from cases.core.models import Customer, Task, TaskState, User, utcnow
from cases.knowledge import articles
from cases.kpis.figures import Period
from cases.service import major_incidents, problems

OUTAGE = [
    ("HUAXIN", "web", "过账时提示超时", "升级到 7.2 之后，所有入库单过账都提示数据库超时。"),
    ("YUANHANG", "vip", "Posting receipts times out", "Since the 7.2 update every goods receipt posting times out."),
]


def _to_resolve(users: dict[str, User], customer: Customer, channel: str, title: str, description: str) -> int:
    case = intake.open_case(users["agent1"], {"customer_id": customer.id, "channel": channel, "title": title,
                                              "description": description, "contact_email": "it@example.com"})
    for element, data in (("classify", {"category": "data_problem", "priority": "urgent"}),
                          ("assign", {"owner": "consultant1", "due_at": (utcnow() + timedelta(days=2)).isoformat()})):
        task = db.session.scalar(select(Task).where(Task.case_id == case.id, Task.state == TaskState.OPEN.value))
        if task is None or task.element_id != element:
            break
        work.complete(task.assignee or users["agent1" if element == "classify" else "supervisor"], task.id,
                      task.version, data)
    return case.id


def load(users: dict[str, User], customers: dict[str, Customer]) -> None:
    """In the caller's transaction."""
    ids = [_to_resolve(users, customers[code], channel, title, text) for code, channel, title, text in OUTAGE]
    incident = major_incidents.declare(users["supervisor"], ids[0], {
        "title": "7.2 版本过账超时 / Posting times out since release 7.2",
        "description": "Every posting in the warehouse module times out since the 7.2 update.",
        "priority": "urgent", "team": ["consultant1", "consultant2"], "link_cases": ids[1:]})
    major_incidents.post_update(users["consultant1"], incident.id,
                                "我们已定位原因，正在回退到 7.1.9。/ We found the cause and are rolling back to 7.1.9.")
    today = utcnow().date()
    groups = problems.all_groups(Period(today - timedelta(days=89), today))
    recurring = [g for g in groups if g.count >= problems.MIN_CASES and g.known is None]
    if not recurring:
        return
    group = recurring[0]
    article = articles.create(users["consultant1"], {
        "language": "zh", "status": "published", "category": group.key.category,
        "title": "重复出现的问题：临时解决办法", "body": "先重建报表缓存（报表 > 维护 > 重建），再重新过账；若仍不一致，请联系服务顾问。"})
    problems.mark_known(users["consultant1"], {
        "product": group.key.product, "product_version": group.key.product_version, "category": group.key.category,
        "customer_id": group.key.customer_id, "title": "报表合计与台账不一致 / Report totals disagree with the ledger",
        "workaround": "Rebuild the report cache (Reports > Maintenance > Rebuild), then post again.",
        "article_id": article.id})
