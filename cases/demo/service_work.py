"""Demo data of running the service (cases/service): the catalogue of paid special services, a
repair booked and confirmed on HUAXIN's broken printer case, a repair done with its log and a remote
session on YUANHANG's configuration case, an internal task, and maintenance schedules on HUAXIN's
installation (a backup check coming due in three days)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from cases.core.db import db
from cases.core.models import Case, Customer, User, utcnow
from cases.customers.models import InstalledProduct
from cases.service import catalogue, internal_tasks, maintenance, visits
from cases.service.common import zone
from cases.service.visit_models import RemoteSession, RepairLog, Visit

ENTRIES = [
    ("ONSITE_REPAIR", "上门维修", "On-site repair", 800, "visit", "保修期外的硬件上门维修（不含部件）。"),
    ("DATA_MIGRATION", "数据迁移", "Data migration", 4500, "day", "历史数据导入新系统。"),
    ("CUSTOM_REPORT", "定制报表", "Custom report", 3000, "each", "按客户格式开发的报表。"),
    ("EXTRA_TRAINING", "额外培训", "Extra training", 2000, "day", "合同外的现场培训。"),
]


def _case(title: str) -> Case | None:
    return db.session.scalar(select(Case).where(Case.title == title).limit(1))


def load(users: dict[str, User], customers: dict[str, Customer]) -> None:
    for code, name_zh, name_en, price, unit, description in ENTRIES:
        catalogue.create(users["bizmanager"], {"code": code, "name_zh": name_zh, "name_en": name_en, "price": price,
                                               "unit": unit, "description": description})
    tz, now = zone(), utcnow()
    printer = _case("打印机坏了")
    if printer is not None:  # booked for the day after tomorrow, 10:00–12:00, and confirmed by the customer
        day = (now.astimezone(tz) + timedelta(days=2)).date()
        start = datetime.combine(day, time(10), tzinfo=tz)
        visit = visits.book(users["consultant1"], printer.id, {
            "kind": "repair", "purpose": "检修发货室打印机，必要时更换定影组件", "technician": "consultant1",
            "window_start": start, "window_end": start + timedelta(hours=2), "catalogue_code": "ONSITE_REPAIR"})
        visits.confirm(users["huaxin"], visit.id, visit.version)
        internal_tasks.create(users["consultant1"], printer.id, {
            "title": "确认定影组件库存", "assignee": "consultant2", "due_on": day})
    config = _case("Invoice numbering configuration")
    if config is not None:  # a repair done last week with its log, and a remote session before it
        start = datetime.combine((now.astimezone(tz) - timedelta(days=7)).date(), time(14), tzinfo=tz)
        done = Visit(case_id=config.id, kind="visit", window_start=start, window_end=start + timedelta(hours=2),
                     status="done", proposed_by="staff", purpose="Check the invoice printer settings on site",
                     technician=users["consultant2"], in_warranty=True, charge_cents=0,
                     confirmed_at=start - timedelta(days=2), done_at=start + timedelta(hours=1, minutes=40),
                     created_by_id=users["consultant2"].id, created_at=start - timedelta(days=3))
        db.session.add(done)
        db.session.flush()
        db.session.add(RepairLog(visit_id=done.id, arrived_at=start + timedelta(minutes=10), minutes=90,
                                 parts=[], result="advised", notes="Changed the number format; trained the clerk.",
                                 recorded_by_id=users["consultant2"].id, recorded_at=done.done_at))
        db.session.add(RemoteSession(case_id=config.id, staff=users["consultant2"], staff_id=users["consultant2"].id,
                                     started_at=start - timedelta(days=1), ended_at=start - timedelta(days=1, minutes=-35),
                                     summary="Looked at the configuration remotely; an on-site visit is needed."))
    bug = _case("月末报表打开时报错")
    if bug is not None:
        internal_tasks.create(users["consultant1"], bug.id, {"title": "在测试环境复现月末报表错误",
                                                             "assignee": "consultant1"})
    installed = db.session.scalar(select(InstalledProduct).where(InstalledProduct.customer_id == customers["HUAXIN"].id)
                                  .order_by(InstalledProduct.id).limit(1))
    if installed is not None:
        today = now.astimezone(tz).date()
        maintenance.create(users["supervisor"], {"installed_product_id": installed.id, "kind": "backup_check",
                                                 "interval_days": 30, "next_due": today + timedelta(days=3),
                                                 "assignee": "consultant1", "notes": "检查夜间数据库备份能否恢复"})
        maintenance.create(users["supervisor"], {"installed_product_id": installed.id, "kind": "maintenance",
                                                 "interval_days": 90, "next_due": today + timedelta(days=30),
                                                 "assignee": "consultant2", "notes": "季度系统巡检"})
