"""The portal's satisfaction surveys: the open ones are listed and answered once (score 1-5 and a
comment), errors beside the field with nothing written, answered and expired ones say so, only my
organisation's, and a low score opens a linked complaint."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from cases.casework.models import Survey
from cases.core.db import db
from cases.core.models import Case, CaseEvent
from tests.api.test_surveys import online_survey
from tests.helpers import get_case


def _survey(case_id: int) -> Survey:
    return db.session.scalar(select(Survey).where(Survey.case_id == case_id))


def test_a_customer_rates_the_service_once(api, world, pages):
    case_id, _token = online_survey(api, world)
    survey = _survey(case_id)
    customer = pages("acme_user")
    text = customer.text(customer.get("/portal"))
    assert 'id="surveys"' in text and f'action="/portal/surveys/{survey.id}"' in text
    assert 'type="radio" id="survey-%d-score-5" name="score" value="5"' % survey.id in text
    r = customer.post(f"/portal/surveys/{survey.id}", {"score": "4", "comment": "Quick and friendly."})
    assert r.status_code == 303 and r.headers["Location"] == "/portal#surveys"
    db.session.expire_all()
    survey = _survey(case_id)
    assert (survey.score, survey.comment, survey.answered_via) == (4, "Quick and friendly.", "api")
    text = customer.text(customer.get("/portal"))
    assert "Thank you for your rating." in text and "No survey is waiting for you." in text
    assert "4 of 5" in text[text.index('id="past-surveys"'):]
    # a second answer changes nothing and says so
    r = customer.post(f"/portal/surveys/{survey.id}", {"score": "1"})
    assert r.status_code == 303
    assert "answered already" in customer.text(customer.get("/portal"))
    db.session.expire_all()
    assert _survey(case_id).score == 4
    assert get_case(api, case_id)["linked_cases"] == []


def test_bad_scores_are_shown_beside_the_field_and_nothing_is_written(api, world, pages):
    case_id, _token = online_survey(api, world)
    survey_id = _survey(case_id).id
    customer = pages("acme_user")
    customer.get("/portal")
    for bad in ({}, {"score": "0"}, {"score": "6"}, {"score": "three"}, {"score": "99999999999999999999"}):
        r = customer.post(f"/portal/surveys/{survey_id}", {**bad, "comment": "kept"})
        assert r.status_code == 422, bad
        text = customer.text(r)
        assert f'id="survey-{survey_id}-score-error">Choose a score from 1 to 5.</p>' in text
        assert ">kept</textarea>" in text
    r = customer.post(f"/portal/surveys/{survey_id}", {"score": "3", "comment": "x" * 5001})
    assert r.status_code == 422 and f'id="survey-{survey_id}-comment-error">At most 5000 characters.' in customer.text(r)
    db.session.expire_all()
    assert _survey(case_id).answered_at is None
    assert db.session.scalar(select(func.count()).select_from(CaseEvent).where(
        CaseEvent.kind == "survey_answered")) == 0


def test_an_expired_survey_says_so(api, world, pages):
    case_id, _token = online_survey(api, world)
    survey = _survey(case_id)
    survey.expires_at = survey.created_at - timedelta(seconds=1)
    db.session.commit()
    customer = pages("acme_user")
    text = customer.text(customer.get("/portal"))
    assert f'action="/portal/surveys/{survey.id}"' not in text and "not answered" in text
    r = customer.post(f"/portal/surveys/{survey.id}", {"score": "5"})
    assert r.status_code == 303
    assert "This survey has expired" in customer.text(customer.get("/portal"))
    db.session.expire_all()
    assert _survey(case_id).answered_at is None


def test_only_my_organisations_surveys_and_only_customers(api, world, pages):
    case_id, _token = online_survey(api, world)
    survey_id = _survey(case_id).id
    other = pages("other_user")
    assert f"/portal/surveys/{survey_id}" not in other.text(other.get("/portal"))
    assert other.post(f"/portal/surveys/{survey_id}", {"score": "1"}).status_code == 404
    agent = pages("agent1")
    assert agent.post(f"/portal/surveys/{survey_id}", {"score": "1"}).status_code == 403
    db.session.expire_all()
    assert _survey(case_id).answered_at is None


def test_a_survey_answer_needs_the_csrf_token(api, world, pages):
    case_id, _token = online_survey(api, world)
    survey_id = _survey(case_id).id
    customer = pages("acme_user")
    assert customer.post(f"/portal/surveys/{survey_id}", {"score": "5"}, csrf=False).status_code == 403
    db.session.expire_all()
    assert _survey(case_id).answered_at is None


def test_a_low_score_opens_a_linked_complaint(api, world, pages):
    case_id, _token = online_survey(api, world)
    survey_id = _survey(case_id).id
    customer = pages("acme_user")
    customer.get("/portal")
    r = customer.post(f"/portal/surveys/{survey_id}", {"score": "2", "comment": "Took far too long."})
    assert r.status_code == 303
    assert "Your rating opened a complaint" in customer.text(customer.get("/portal"))
    complaint = db.session.scalar(select(Case).where(Case.parent_case_id == case_id))
    assert complaint.kind == "complaint" and "Took far too long." in complaint.description
    text = customer.text(customer.get(f"/cases/{case_id}"))
    assert f'href="/cases/{complaint.id}">{complaint.number}</a>' in text[text.index('id="linked-complaints"'):]
