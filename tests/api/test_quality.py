"""Quality audits through HTTP: a period's sample of closed support cases is random but reproducible
(the same cases for the same period, never drawn twice, the configured share by default); an audit
answers every checklist item, or is refused naming the item with nothing saved; the score, the case's
timeline, who may audit, and the review's figures against a hand count."""
from __future__ import annotations

import math
from datetime import date, datetime
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import select

from cases.core.db import db
from cases.core.models import Case, CaseEvent
from cases.kpis.figures import Period
from cases.service import quality
from cases.service.oversight_models import QualityAudit
from tests.helpers import open_case

SHANGHAI = ZoneInfo("Asia/Shanghai")
Q1 = {"from": "2026-01-01", "to": "2026-03-31"}


def closed_cases(api, world, n: int, when: datetime, customer: str = "ACME") -> list[int]:
    ids = []
    for _ in range(n):
        case = open_case(api, "agent1", world.customers[customer].id)
        row = db.session.get(Case, case["id"])
        row.status, row.closed_at = "closed", when
        ids.append(row.id)
        db.session.commit()  # before the next request: its unit of work starts afresh
    return ids


def test_the_sample_is_reproducible_and_never_draws_a_case_twice(api, world, app):
    in_q1 = closed_cases(api, world, 7, datetime(2026, 2, 10, 12, tzinfo=SHANGHAI))
    closed_cases(api, world, 2, datetime(2026, 4, 2, 12, tzinfo=SHANGHAI))  # Q2: not in the sample
    open_case(api, "agent1", world.customers["ACME"].id)  # open: never
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    expected = sorted(in_q1, key=lambda case_id: quality.rank(period, case_id))[:math.ceil(0.3 * 7)]
    r = api.post("/api/v1/quality/samples", "supervisor", json={**Q1, "share": 0.3})
    assert r.status_code == 201, r.json
    assert sorted(a["case_id"] for a in r.json) == sorted(expected)
    r = api.post("/api/v1/quality/samples", "supervisor", json={**Q1, "share": 0.3})
    assert r.json == []  # the same draw: nothing new
    before = app.config.get("QUALITY_AUDIT_SHARE")
    app.config["QUALITY_AUDIT_SHARE"] = 0.5
    try:
        r = api.post("/api/v1/quality/samples", "supervisor", json=Q1)
    finally:
        app.config["QUALITY_AUDIT_SHARE"] = before
    # half (4): the same three first, then the next in rank
    assert sorted(a["case_id"] for a in r.json) == sorted(
        set(sorted(in_q1, key=lambda case_id: quality.rank(period, case_id))[:4]) - set(expected))
    assert len(api.get("/api/v1/quality/audits?status=pending", "supervisor").json) == 4


def test_an_audit_answers_the_whole_checklist(api, world):
    [case_id] = closed_cases(api, world, 1, datetime(2026, 2, 10, 12, tzinfo=SHANGHAI))
    [audit] = api.post("/api/v1/quality/samples", "supervisor", json={**Q1, "share": 1}).json
    answers = dict.fromkeys(quality.CHECKLIST, True)
    partial = {**answers}
    del partial["classified"]
    r = api.post(f"/api/v1/quality/audits/{audit['id']}", "supervisor",
                 json={"version": audit["version"], "checklist": {**partial, "colour": True, "solution_recorded": "yes"}})
    assert r.status_code == 422
    assert {e["field"] for e in r.json["errors"]} == {"checklist.classified", "checklist.colour",
                                                      "checklist.solution_recorded"}
    assert db.session.scalar(select(QualityAudit.status)) == "pending"
    answers.update(customer_confirmed=False, satisfaction_recorded=False)
    with freeze_time(datetime(2026, 4, 8, 10, tzinfo=SHANGHAI)):
        api.forget_tokens()
        r = api.post(f"/api/v1/quality/audits/{audit['id']}", "supervisor",
                     json={"version": audit["version"], "checklist": answers, "notes": "No confirmation on file."})
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["score"], r.json["auditor"]) == ("done", 75, "supervisor")  # 6 of 8
    event = db.session.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.kind == "quality_audited"))
    assert (event.data["score"], event.public) == (75, False)
    api.forget_tokens()
    r = api.post(f"/api/v1/quality/audits/{audit['id']}", "supervisor", json={"version": audit["version"], "checklist": answers})
    assert r.status_code == 409  # stale


def test_who_may_audit(api, world):
    for user in ("agent1", "consultant1", "acme_user", "owner"):
        assert api.post("/api/v1/quality/samples", user, json=Q1).status_code == 403
        assert api.get("/api/v1/quality/audits", user).status_code == 403
    assert api.post("/api/v1/quality/samples", "admin", json=Q1).status_code == 201
    r = api.post("/api/v1/quality/samples", "supervisor", json={"from": "2026-03-31", "to": "2026-01-01"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "to"
    r = api.post("/api/v1/quality/samples", "supervisor", json={**Q1, "share": 0})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "share"


def test_the_review_figures_against_a_hand_count(api, world):
    """Audited in Q2: ACME 100 and 50, VIPCO 75 -> 3 audits, average 75 (0.75); ACME alone: 2, 0.75.
    One audited in Q3 and one left pending do not count as audited in Q2."""
    acme = closed_cases(api, world, 3, datetime(2026, 3, 10, tzinfo=SHANGHAI))
    vip = closed_cases(api, world, 1, datetime(2026, 3, 11, tzinfo=SHANGHAI), "VIPCO")
    extra = closed_cases(api, world, 1, datetime(2026, 3, 12, tzinfo=SHANGHAI))
    audits = {a["case_id"]: a for a in api.post("/api/v1/quality/samples", "supervisor", json={**Q1, "share": 1}).json}
    keys = list(quality.CHECKLIST)

    def audit(case_id, met, at):
        with freeze_time(at):
            api.forget_tokens()
            r = api.post(f"/api/v1/quality/audits/{audits[case_id]['id']}", "supervisor",
                         json={"version": 1, "checklist": {k: i < met for i, k in enumerate(keys)}})
            assert r.status_code == 200, r.json

    audit(acme[0], 8, datetime(2026, 4, 5, tzinfo=SHANGHAI))
    audit(acme[1], 4, datetime(2026, 5, 5, tzinfo=SHANGHAI))
    audit(vip[0], 6, datetime(2026, 6, 5, tzinfo=SHANGHAI))
    audit(extra[0], 2, datetime(2026, 7, 5, tzinfo=SHANGHAI))
    q2 = Period(date(2026, 4, 1), date(2026, 6, 30))
    figures = {f.key: f.value for f in quality.review_section(q2, None).figures}
    assert figures == {"audited": 3, "average_score": 0.75, "pending": 1}
    mine = {f.key: f.value for f in quality.review_section(q2, world.customers["ACME"].id).figures}
    assert mine == {"audited": 2, "average_score": 0.75, "pending": 1}
