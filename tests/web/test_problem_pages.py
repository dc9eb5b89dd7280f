"""The recurring problems page: the groups of the period with their cases and the recurrence rate;
marking a group known with its workaround article (errors beside the fields, nothing saved)."""
from __future__ import annotations

from sqlalchemy import func, select

from cases.core.db import db
from cases.customers.models import InstalledProduct
from cases.knowledge import articles
from cases.service.models import KnownProblem
from tests.helpers import open_case, step


def test_the_groups_and_marking_one_known(pages, api, world):
    acme = world.customers["ACME"].id
    db.session.add(InstalledProduct(customer_id=acme, product="ERP", product_version="7.2"))
    db.session.commit()
    cases = [open_case(api, customer_id=acme, title=f"Totals disagree {i}") for i in range(2)]
    for case in cases:
        step(api, case["id"], "classify", {"category": "data_problem", "priority": "medium"})
    article = articles.create(world.user("agent1"), {"language": "en", "title": "Rebuild the report cache",
                                                     "body": "Reports > Maintenance > Rebuild.", "status": "published"})
    consultant = pages("consultant1")
    text = consultant.text(consultant.get("/problems"))
    assert 'id="problem-groups"' in text and cases[0]["number"] in text and cases[1]["number"] in text
    assert "50.0 %" in text  # 1 of 2 cases repeats a problem
    group = f"{acme}|data_problem|ERP|7.2"
    r = consultant.post("/problems/known", {"group": group, "title": "Totals disagree", "workaround": "",
                                            "article_id": str(article.id)})
    assert r.status_code == 422
    text = consultant.text(r)
    assert 'id="p-workaround-error"' in text and 'value="Totals disagree"' in text
    assert db.session.scalar(select(func.count()).select_from(KnownProblem)) == 0
    r = consultant.post("/problems/known", {"group": group, "title": "Totals disagree",
                                            "workaround": "Rebuild the cache.", "article_id": str(article.id)})
    assert r.status_code == 303
    text = consultant.text(consultant.get("/problems"))
    assert 'class="known-problem">Totals disagree' in text and "Rebuild the report cache" in text
    assert pages("acme_user").get("/problems").status_code == 403
