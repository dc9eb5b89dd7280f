"""The service pages: a consultant books a visit (errors beside the fields, the typed values kept,
nothing saved), the customer confirms it in their own words or proposes another time, the case page
shows the visits to both and the internal tasks to staff only; the report prints and downloads in
both languages; the catalogue page is kept by business managers."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from cases.core.db import db
from cases.service.visit_models import CatalogueItem, InternalTask, Visit
from tests.helpers import only_task, open_case, step

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _local(days: int, hour: int) -> str:
    day = datetime.now(SHANGHAI).date() + timedelta(days=days)
    return f"{day.isoformat()}T{hour:02d}:00"


def _catalogue_entry(code: str, name_zh: str, name_en: str, price_cents: int, unit: str) -> None:
    """An active entry of the service catalogue (a visit out of warranty is charged as one)."""
    db.session.add(CatalogueItem(code=code, name_zh=name_zh, name_en=name_en, price_cents=price_cents, unit=unit,
                                 active=True))
    db.session.commit()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_book_confirm_and_counter_propose_on_the_pages(api, pages, world):
    _catalogue_entry("ONSITE", "上门维修", "On-site repair", 80000, "visit")
    case = open_case(api, "acme_user", title="打印机卡纸")
    consultant = pages("consultant1")
    url = f"/cases/{case['id']}/service"
    assert consultant.get(url).status_code == 200
    bad = consultant.post(f"{url}/visits", {"kind": "repair", "purpose": "换滚轮", "window_start": _local(3, 10),
                                            "window_end": _local(3, 9)})
    body = consultant.text(bad)
    assert bad.status_code == 422 and 'id="book-window_end-error"' in body and "换滚轮" in body
    assert _count(Visit) == 0
    ok = consultant.post(f"{url}/visits", {"kind": "repair", "purpose": "换滚轮", "window_start": _local(3, 10),
                                           "window_end": _local(3, 12), "catalogue_code": "ONSITE"})
    assert ok.status_code == 303, consultant.text(ok)

    customer = pages("acme_user")
    page = customer.text(customer.get(url))
    assert "We propose this time: does it suit you?" in page and "Internal tasks" not in page
    visit = db.session.scalars(select(Visit)).one()
    r = customer.post(f"/visits/{visit.id}/propose", {"version": visit.version, "window_start": _local(4, 14),
                                                      "window_end": _local(4, 13), "note": "上午没人"})
    assert r.status_code == 422 and "上午没人" in customer.text(r)
    r = customer.post(f"/visits/{visit.id}/propose", {"version": visit.version, "window_start": _local(4, 14),
                                                      "window_end": _local(4, 16), "note": "上午没人"})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "counter_proposed"
    assert "You proposed this time: we will confirm it." in customer.text(customer.get(url))
    r = consultant.post(f"/visits/{visit.id}/confirm", {"version": db.session.get(Visit, visit.id).version})
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "confirmed"
    assert "Confirmed" in customer.text(customer.get(f"/cases/{case['id']}"))
    # staff reach the visit's process case from the page; the customer never reads of it
    number = db.session.get(Visit, visit.id).process_case.number
    assert "Its process:" in consultant.text(consultant.get(url)) and number in consultant.text(consultant.get(url))
    page = customer.text(customer.get(url))
    assert number not in page and "Its process:" not in page


def test_internal_tasks_show_on_the_staff_case_page_only(api, pages, world):
    case = open_case(api, "acme_user")
    consultant = pages("consultant1")
    r = consultant.post(f"/cases/{case['id']}/service/tasks", {"title": "在测试环境复现", "assignee": "nobody"})
    assert r.status_code == 422 and _count(InternalTask) == 0
    r = consultant.post(f"/cases/{case['id']}/service/tasks", {"title": "在测试环境复现", "assignee": "consultant2"})
    assert r.status_code == 303
    assert "在测试环境复现" in consultant.text(consultant.get(f"/cases/{case['id']}"))
    customer = pages("acme_user")
    assert "在测试环境复现" not in customer.text(customer.get(f"/cases/{case['id']}"))
    assert "在测试环境复现" not in customer.text(customer.get(f"/cases/{case['id']}/service"))
    assert customer.post(f"/cases/{case['id']}/service/tasks", {"title": "x"}).status_code == 403
    assert customer.get("/service/tasks").status_code == 403
    mine = pages("consultant2")
    assert "在测试环境复现" in mine.text(mine.get("/service/tasks"))


def test_the_report_prints_and_downloads_in_both_languages(api, pages, world):
    case = open_case(api, "acme_user", title="报表错误")
    customer = pages("acme_user")
    page = customer.get(f"/cases/{case['id']}/report?print=1")
    assert page.status_code == 200
    text = customer.text(page)
    assert '<style media="print">' in text and "@page" in text and 'id="total-minutes"' in text
    zh = customer.get(f"/cases/{case['id']}/report.csv?lang=zh").get_data().decode("utf-8-sig")
    en = customer.get(f"/cases/{case['id']}/report.csv?lang=en").get_data().decode("utf-8-sig")
    assert zh.startswith("部分,日期,项目,分钟") and en.startswith("Section,Date,Item,Minutes")
    assert pages("other_user").get(f"/cases/{case['id']}/report").status_code == 404


def test_business_managers_keep_the_catalogue_page(pages, world):
    manager = pages("bizmanager")
    bad = manager.post("/service/catalogue", {"code": "DM", "name_zh": "数据迁移", "name_en": "", "price": "x",
                                              "unit": "day"})
    assert bad.status_code == 422 and "数据迁移" in manager.text(bad) and _count(CatalogueItem) == 0
    ok = manager.post("/service/catalogue", {"code": "DM", "name_zh": "数据迁移", "name_en": "Data migration",
                                             "price": "4500", "unit": "day"})
    assert ok.status_code == 303 and _count(CatalogueItem) == 1
    assert pages("agent1").post("/service/catalogue", {"code": "X"}).status_code == 403
    assert "数据迁移" in pages("agent1").text(pages("agent1").get("/service/catalogue"))


def test_the_negotiation_form_offers_the_catalogue(api, pages, world):
    _catalogue_entry("DM", "数据迁移", "Data migration", 450000, "day")
    case = open_case(api, customer_id=world.customers["ACME"].id)
    step(api, case["id"], "classify", {"category": "special_service", "priority": "medium"})
    task = only_task(api, case["id"])
    manager = pages("bizmanager")
    page = manager.text(manager.get(f"/tasks/{task['id']}"))
    assert '<option value="DM"' in page and "数据迁移 / Data migration — ¥4,500.00" in page


def test_the_timeline_shows_the_visit_to_the_customer_and_internal_tasks_to_staff_only(api, pages, world):
    _catalogue_entry("ONSITE", "上门维修", "On-site repair", 80000, "visit")
    case = open_case(api, "acme_user", title="打印机卡纸")
    consultant = pages("consultant1")
    consultant.post(f"/cases/{case['id']}/service/visits", {"kind": "visit", "purpose": "检查", "catalogue_code":
                                                            "ONSITE", "window_start": _local(3, 10),
                                                            "window_end": _local(3, 12)})
    consultant.post(f"/cases/{case['id']}/service/tasks", {"title": "在测试环境复现"})
    staff_page = consultant.text(consultant.get(f"/cases/{case['id']}"))
    assert "Visit proposed" in staff_page and "Internal task added" in staff_page
    customer = pages("acme_user")
    page = customer.text(customer.get(f"/cases/{case['id']}"))
    assert "Visit proposed" in page and "Internal task" not in page


def test_a_visit_is_cancelled_on_the_page_with_the_reason_the_customer_reads(api, pages, world):
    _catalogue_entry("VISIT", "上门检查", "On-site check", 50000, "visit")
    case = open_case(api, "acme_user", title="服务器风扇异响")
    consultant = pages("consultant1")
    url = f"/cases/{case['id']}/service"
    booked = consultant.post(f"{url}/visits", {"kind": "visit", "purpose": "检查风扇", "window_start": _local(3, 10),
                                               "window_end": _local(3, 12), "catalogue_code": "VISIT"})
    assert booked.status_code == 303, consultant.text(booked)
    visit = db.session.scalars(select(Visit)).one()
    assert f'action="/visits/{visit.id}/cancel"' in consultant.text(consultant.get(url))
    customer = pages("acme_user")
    assert f'action="/visits/{visit.id}/cancel"' not in customer.text(customer.get(url))
    assert customer.post(f"/visits/{visit.id}/cancel", {"version": visit.version, "reason": "x"}).status_code == 403

    too_long = consultant.post(f"/visits/{visit.id}/cancel", {"version": visit.version, "reason": "备件" * 1001})
    body = consultant.text(too_long)
    assert too_long.status_code == 422 and f'id="cancel-{visit.id}-reason-error"' in body and "备件备件" in body
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "proposed"

    done = consultant.post(f"/visits/{visit.id}/cancel", {"version": visit.version, "reason": "备件未到，改期另约"})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).status == "cancelled"
    assert "备件未到，改期另约" in customer.text(customer.get(f"/cases/{case['id']}"))
    again = consultant.post(f"/visits/{visit.id}/cancel", {"version": db.session.get(Visit, visit.id).version,
                                                           "reason": "again"})
    assert again.status_code == 409


def test_the_service_forms_refuse_too_long_text_in_the_readers_language(api, pages, world):
    case = open_case(api, "acme_user")
    consultant = pages("consultant1")
    r = consultant.post(f"/cases/{case['id']}/service/tasks", {"title": "复" * 201})
    assert r.status_code == 422 and 'id="task-title-error"' in consultant.text(r) and _count(InternalTask) == 0
    consultant.post("/language", {"lang": "zh_CN"})
    r = consultant.post(f"/cases/{case['id']}/service/tasks", {"title": "在测试环境复现", "assignee": "nobody"})
    body = consultant.text(r)
    assert r.status_code == 422 and "nobody" in body and "is not an active staff member" not in body
