"""The quarterly service review page through Flask's test client: who sees it, the figures of a
customer's quarter, the print view, the CSV (the API's), errors on their fields, both languages."""
from __future__ import annotations

import re
from datetime import date

from tests.helpers import open_case
from web.service_review import _quarters


def _figure(page: str, section: str, key: str) -> str:
    found = re.search(rf'<tr id="figure-{section}-{key}" data-value="([^"]*)">', page)
    assert found, f"{section}.{key} not on the page"
    return found.group(1)


def test_review_readers_only(pages):
    for user in ("supervisor", "bizmanager", "owner", "admin"):
        assert pages(user).get("/service/review").status_code == 200, user
    for user in ("agent1", "consultant1", "acme_user"):
        for path in ("/service/review", "/service/review/print", "/service/review/export.csv"):
            assert pages(user).get(path).status_code == 403, (user, path)


def test_a_customers_quarter_with_print_view_and_csv(api, world, pages):
    acme = world.customers["ACME"].id
    for _ in range(2):
        open_case(api, customer_id=acme)
    open_case(api, customer_id=world.customers["OTHER"].id)
    supervisor = pages("supervisor")
    page = supervisor.text(supervisor.get(f"/service/review?customer_id={acme}"))  # this quarter by default
    assert _figure(page, "cases", "cases_opened") == "2"
    assert _figure(page, "satisfaction", "csat") == ""  # no score given yet: shown as —
    assert re.search(r'<option value="%d" selected>Acme Ltd</option>' % acme, page)
    whole = supervisor.text(supervisor.get("/service/review"))
    assert _figure(whole, "cases", "cases_opened") == "3"
    quarter = re.search(r'<option value="(\d{4}-Q\d)" selected>', page).group(1)

    printed = supervisor.get(f"/service/review/print?quarter={quarter}&customer_id={acme}")
    text = supervisor.text(printed)
    assert printed.status_code == 200 and "print.css" in text and "<nav" not in text
    assert _figure(text, "cases", "cases_opened") == "2" and f"Service review — {quarter}" in text

    csv = supervisor.get(f"/service/review/export.csv?quarter={quarter}&customer_id={acme}")
    assert csv.mimetype == "text/csv"
    assert csv.get_data() == api.get(f"/api/v1/service-review.csv?quarter={quarter}&customer_id={acme}",
                                     "supervisor").get_data()


def test_errors_are_shown_on_their_fields_and_keep_the_choice(pages, world):
    supervisor = pages("supervisor")
    bad = supervisor.get("/service/review?quarter=2026-Q9")
    assert bad.status_code == 422
    text = supervisor.text(bad)
    assert '<p class="field-error" id="err-quarter">Choose one of the quarters.</p>' in text
    assert '<option value="2026-Q9" selected>2026-Q9</option>' in text  # what was asked stays shown
    nobody = supervisor.get("/service/review?quarter=2026-Q1&customer_id=99999")
    assert nobody.status_code == 422 and 'id="err-customer_id"' in supervisor.text(nobody)
    assert supervisor.get("/service/review?customer_id=x").status_code == 422


def test_the_page_reads_in_chinese(pages, world):
    manager = pages("bizmanager")
    manager.post("/language", {"lang": "zh_CN"})
    text = manager.text(manager.get("/service/review"))
    for words in ("服务回顾", "服务单与时限承诺", "在承诺时间内首次响应", "满意度", "计划目标", "全部服务"):
        assert words in text, words
    assert "Cases and time promises" not in text


def test_the_quarters_offered_go_back_two_years_across_new_year():
    assert _quarters(date(2026, 2, 10))[:3] == ["2026-Q1", "2025-Q4", "2025-Q3"]
    assert len(_quarters(date(2026, 2, 10))) == 8
