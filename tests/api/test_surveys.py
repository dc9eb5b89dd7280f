"""Callbacks and satisfaction surveys through HTTP: the callback due within 2 working days, the survey
link that needs no log-in (valid, reused, expired, unknown, rate-limited), the customer's answer
through the API, and a low score (2 or less) opening a linked complaint with its 2-working-day target."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from cases.casework import surveys
from cases.casework.models import Survey
from cases.core.db import db
from cases.process import timers
from tests.api.test_complaints import survey_token
from tests.helpers import get_case, only_task, open_case, step

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


def at_callback(api, world, **fields) -> int:
    case = open_case(api, customer_id=world.customers["ACME"].id, contact_email="li@acme.example", **fields)
    step(api, case["id"], "classify", {"category": "general_consultation", "priority": "medium"})
    step(api, case["id"], "answer_consultation")
    step(api, case["id"], "confirm", {"confirmed": True}, as_user="acme_user")
    assert only_task(api, case["id"])["element_id"] == "callback"
    return case["id"]


def call_back(api, case_id: int, data: dict) -> None:
    step(api, case_id, "callback", data, as_user=only_task(api, case_id)["assignee"])


def online_survey(api, world) -> tuple[int, str]:
    case_id = at_callback(api, world)
    call_back(api, case_id, {"reached": True, "callback_channel": "online"})
    case = get_case(api, case_id)
    assert case["status"] == "closed" and case["satisfaction"] is None
    return case_id, survey_token(case_id)


def test_the_survey_link_answers_once_without_a_login(api, world):
    case_id, token = online_survey(api, world)
    page = api.get(f"/survey/{token}")  # no Authorization header
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert "请评价" in html and "Please rate" in html and 'name="score"' in html
    assert api.get(f"/api/v1/surveys/by-token/{token}").json["kind"] == "callback"
    answered = api.post(f"/survey/{token}", data={"score": "5", "comment": "很好 / great"})
    assert answered.status_code == 200 and "感谢" in answered.get_data(as_text=True)
    [survey] = db.session.scalars(select(Survey).where(Survey.case_id == case_id)).all()
    assert (survey.score, survey.comment, survey.answered_via) == (5, "很好 / great", "link")
    assert survey.token_hash != token and len(survey.token_hash) == 64  # only the hash is stored
    events = [e for e in get_case(api, case_id)["history"] if e["kind"] == "survey_answered"]
    assert [(e["data"]["score"], e["data"]["via"]) for e in events] == [(5, "link")]
    # used: a clear 409, on the page and in JSON, and nothing changes
    again = api.post(f"/survey/{token}", data={"score": "1"})
    assert again.status_code == 409 and "已提交" in again.get_data(as_text=True)
    r = api.post(f"/api/v1/surveys/by-token/{token}", json={"score": 1})
    assert r.status_code == 409 and r.json["code"] == "survey_answered"
    assert get_case(api, case_id)["linked_cases"] == []  # the refused low score opened nothing


def test_an_expired_or_unknown_link_is_a_clear_4xx(api, world):
    with freeze_time(sh(23, 10)) as frozen:
        _case_id, token = online_survey(api, world)
        frozen.move_to(sh(23, 10) + timedelta(days=14, seconds=1))
        r = api.post(f"/api/v1/surveys/by-token/{token}", json={"score": 4})
        assert r.status_code == 410 and r.json["code"] == "survey_expired"
        assert api.get(f"/survey/{token}").status_code == 410
    r = api.get("/api/v1/surveys/by-token/" + "x" * 43)
    assert r.status_code == 404 and r.json["code"] == "not_found"
    assert api.post("/survey/" + "y" * 43, data={"score": "3"}).status_code == 404


def test_bad_answers_are_refused_and_change_nothing(api, world):
    case_id, token = online_survey(api, world)
    for body in ({"score": 0}, {"score": 6}, {"score": "5"}, {}, {"score": 3, "comment": "x" * 5001}):
        r = api.post(f"/api/v1/surveys/by-token/{token}", json=body)
        assert r.status_code == 422, body
    page = api.post(f"/survey/{token}", data={"comment": "no score"})
    assert page.status_code == 422 and 'name="score"' in page.get_data(as_text=True)
    assert db.session.scalar(select(Survey.answered_at).where(Survey.case_id == case_id)) is None


def test_unknown_links_from_one_address_are_rate_limited(api, world):
    for i in range(surveys.MAX_UNKNOWN_PER_ADDRESS):
        assert api.get(f"/api/v1/surveys/by-token/{'z' * 40}{i:03d}").status_code == 404
    r = api.get(f"/api/v1/surveys/by-token/{'z' * 43}")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0


def test_the_customer_answers_through_the_api(api, world):
    case_id, _token = online_survey(api, world)
    [listed] = api.get("/api/v1/surveys?open=true", "acme_user").json
    assert listed["case_id"] == case_id and listed["score"] is None
    assert api.get("/api/v1/surveys", "other_user").json == []  # another organisation's
    assert api.post(f"/api/v1/surveys/{listed['id']}/answer", "other_user", json={"score": 5}).status_code == 404
    assert api.post(f"/api/v1/surveys/{listed['id']}/answer", "agent1", json={"score": 5}).status_code == 403
    r = api.post(f"/api/v1/surveys/{listed['id']}/answer", "acme_user", json={"score": 4, "comment": "Fine"})
    assert r.status_code == 200 and (r.json["score"], r.json["answered_via"]) == (4, "api")
    assert api.post(f"/api/v1/surveys/{listed['id']}/answer", "acme_user", json={"score": 4}).status_code == 409


def test_a_low_score_through_the_link_opens_a_linked_complaint_answered_within_2_working_days(api, world):
    with freeze_time(sh(27, 16)):  # Friday 16:00
        case_id, token = online_survey(api, world)
        r = api.post(f"/api/v1/surveys/by-token/{token}", json={"score": 2, "comment": "Nobody listened."})
        assert r.status_code == 200
        [linked] = get_case(api, case_id)["linked_cases"]
        complaint = get_case(api, linked["id"])
        assert only_task(api, linked["id"])["element_id"] == "acknowledge_complaint"
    assert (complaint["kind"], complaint["parent_case_id"]) == ("complaint", case_id)
    assert "Nobody listened." in complaint["description"]
    [resolution] = [t for t in complaint["sla"]["targets"] if t["kind"] == "resolution"]
    # 2 working days: 1 h on Friday, 8 h on Monday, 7 h on Tuesday
    assert datetime.fromisoformat(resolution["due_at"]) == datetime(2026, 12, 1, 16, tzinfo=SHANGHAI)
    assert db.session.scalar(select(Survey.complaint_case_id).where(Survey.case_id == case_id)) == linked["id"]


@pytest.mark.parametrize(("score", "complaints"), [(2, 1), (3, 0)])
def test_a_low_score_in_a_phone_callback_opens_a_complaint(api, world, score, complaints):
    case_id = at_callback(api, world)
    call_back(api, case_id, {"reached": True, "callback_channel": "phone", "satisfaction": score,
                             "feedback": "Too slow"})
    case = get_case(api, case_id)
    assert case["status"] == "closed" and len(case["linked_cases"]) == complaints
    if complaints:
        assert get_case(api, case["linked_cases"][0]["id"])["description"] == "Too slow"


def test_the_callback_is_due_within_2_working_days(api, world):
    with freeze_time(sh(27, 16)) as frozen:  # confirmed on Friday 16:00
        case_id = at_callback(api, world)
        frozen.move_to(datetime(2026, 12, 1, 15, 59, tzinfo=SHANGHAI))
        assert timers.fire_due() == {}
        frozen.move_to(datetime(2026, 12, 1, 16, 0, 1, tzinfo=SHANGHAI))  # Tuesday 16:00 + 1 s
        api.forget_tokens()
        fired = timers.fire_due()
        case = get_case(api, case_id)
    assert list(fired.values()) == [["callback_overdue"]]
    assert [e["data"]["step"] for e in case["history"] if e["kind"] == "deadline_missed"] == ["callback"]
    assert case["stage"] == "callback"  # still to do
