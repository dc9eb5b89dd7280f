"""Training through HTTP with the clock frozen and moved (never slept on): a session planned invites
its participants; its reminder goes out once when it comes due; attendance and scores are recorded,
those who missed are followed up and moved to a later session; a case's user is enrolled from the
case; bad input is refused naming the field with nothing saved; the KPIs against a hand count."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from sqlalchemy import func, select

from cases.core import accounts
from cases.core.db import db
from cases.core.models import CaseEvent
from cases.kpis.figures import Period
from cases.outbox.models import Notification
from cases.process import timers
from cases.service import due, training
from cases.service.oversight_models import TrainingParticipant, TrainingSession
from tests.conftest import FAST_HASH, PASSWORD
from tests.helpers import only_task, open_case, step

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 4, 14, 9, tzinfo=SHANGHAI)


def reminders_fired() -> int:
    """The scheduler's timer run: how many sessions' reminder timers fired."""
    return sum(elements.count("reminder_moment") for elements in timers.fire_due().values())


def mails(kind: str) -> list[str]:
    return sorted(db.session.scalars(select(Notification.recipient).where(Notification.kind == kind)))


def staff_with_mail(*names: str) -> None:
    for name in names:
        accounts.create_user(name, PASSWORD, ["agent"], email=f"{name}@example.com", hash_method=FAST_HASH)


def plan(api, as_user="supervisor", **fields):
    body = {"kind": "staff_technical", "title": "Q2 technical training", "starts_at": START.isoformat(),
            "invitees": ["ann", "bob"], "trainer": "techlead", **fields}
    return api.post("/api/v1/training/sessions", as_user, json=body)


def test_a_session_invites_reminds_once_and_follows_up_who_missed(api, world):
    staff_with_mail("ann", "bob")
    with freeze_time(datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)) as clock:
        r = plan(api, reminder_hours=48)
        assert r.status_code == 201, r.json
        session = r.json
        assert session["reminder_due_at"] == (START - timedelta(hours=48)).isoformat()
        assert datetime.fromisoformat(session["ends_at"]) == START + timedelta(hours=2)
        assert mails("training_invitation") == ["ann@example.com", "bob@example.com"]

        clock.move_to(START - timedelta(hours=48, minutes=1))
        assert reminders_fired() == 0 and mails("training_reminder") == []  # a minute before: not yet
        clock.move_to(START - timedelta(hours=48) + timedelta(seconds=30))  # at its minute
        assert reminders_fired() == 1
        assert reminders_fired() == 0 and due.run().trainings_started == []  # once
        assert mails("training_reminder") == ["ann@example.com", "bob@example.com"]

        api.forget_tokens()  # the tokens of April 1st have expired
        r = api.post("/api/v1/training/sessions", "supervisor", json={
            "kind": "staff_technical", "title": "Q2 technical training (again)",
            "starts_at": (START + timedelta(days=14)).isoformat(), "invitees": []})
        later = r.json["id"]

        clock.move_to(START + timedelta(hours=3))
        api.forget_tokens()
        session = api.get(f"/api/v1/training/sessions/{session['id']}", "supervisor").json  # reminded: version 2
        ann, bob = session["participants"]
        r = api.post(f"/api/v1/training/sessions/{session['id']}/attendance", "supervisor", json={
            "version": session["version"], "attendance": [
                {"participant_id": ann["id"], "attended": True, "score": 85},
                {"participant_id": bob["id"], "attended": False}]})
        assert r.status_code == 200, r.json
        assert r.json["status"] == "held"
        assert [(p["attendance"], p["score"]) for p in r.json["participants"]] == [("attended", 85), ("missed", None)]
        assert mails("training_follow_up") == ["bob@example.com"]
        assert r.json["task_element"] == "follow_up_absentees"  # bob waits for a decision

        r = api.post(f"/api/v1/training/sessions/{session['id']}/participants/{bob['id']}/move", "supervisor",
                     json={"to_session_id": later})
        assert r.status_code == 201, r.json
        assert api.get(f"/api/v1/training/sessions/{session['id']}", "agent1").json["task_id"] is None  # decided
        again = api.get(f"/api/v1/training/sessions/{later}", "agent1").json
        assert [p["user"] for p in again["participants"]] == ["bob"]
        r = api.post(f"/api/v1/training/sessions/{session['id']}/participants/{bob['id']}/move", "supervisor",
                     json={"to_session_id": later})
        assert r.status_code == 409  # moved once


def test_an_induction_lasts_a_week_by_default(api, world):
    staff_with_mail("ann")
    with freeze_time(datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)):
        r = plan(api, kind="induction", invitees=["ann"])
    assert r.status_code == 201, r.json
    assert datetime.fromisoformat(r.json["ends_at"]) - START == timedelta(days=7)


def test_a_cases_user_is_enrolled_from_the_case_and_its_timeline_says_so(api, world):
    with freeze_time(datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)):
        case = open_case(api, "acme_user")
        r = api.post("/api/v1/training/sessions", "supervisor", json={
            "kind": "customer_user", "title": "Using the warehouse module", "starts_at": START.isoformat(),
            "customer_id": world.customers["ACME"].id})
        assert r.status_code == 201, r.json
        r = api.post(f"/api/v1/training/sessions/{r.json['id']}/participants", "consultant1",
                     json={"case_id": case["id"]})
        assert r.status_code == 201, r.json
        assert (r.json["user"], r.json["case_number"]) == ("acme_user", case["number"])
        events = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case["id"])).all()
        assert "training_enrolled" in events
        other = open_case(api, "other_user")
        session_id = db.session.scalar(select(TrainingSession.id))
        r = api.post(f"/api/v1/training/sessions/{session_id}/participants", "consultant1", json={"case_id": other["id"]})
        assert r.status_code == 422
        assert r.json["errors"][0]["field"] == "case_id"


def test_bad_input_names_the_field_and_saves_nothing(api, world):
    staff_with_mail("ann")
    with freeze_time(datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)):
        for fields, field in (({"kind": "juggling"}, "kind"),
                              ({"starts_at": "2026-03-01T09:00:00+08:00"}, "starts_at"),
                              ({"ends_at": "2026-04-14T08:00:00+08:00"}, "ends_at"),
                              ({"invitees": ["nobody"]}, "invitees.0"),
                              ({"invitees": ["acme_user"]}, "invitees.0"),
                              ({"customer_id": world.customers["ACME"].id}, "customer_id"),
                              ({"kind": "customer_user"}, "customer_id"),
                              ({"reminder_hours": -1}, "reminder_hours"),
                              ({"starts_at": "9999-12-31T09:00:00+08:00", "kind": "induction"}, "starts_at"),
                              ({"ends_at": "2026-06-14T08:00:00+08:00"}, "ends_at")):
            r = plan(api, **fields)
            assert r.status_code == 422, (fields, r.json)
            assert field in {e["field"] for e in r.json["errors"]}, (fields, r.json)
        assert db.session.scalar(select(func.count()).select_from(TrainingSession)) == 0
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
        session = plan(api, invitees=["ann"]).json
    with freeze_time(START + timedelta(hours=1)):
        api.forget_tokens()
        bad = {"version": session["version"], "attendance": [
            {"participant_id": session["participants"][0]["id"], "attended": False, "score": 50}]}
        r = api.post(f"/api/v1/training/sessions/{session['id']}/attendance", "supervisor", json=bad)
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "attendance.0.score"
        stale = {"version": session["version"] + 1, "attendance": [
            {"participant_id": session["participants"][0]["id"], "attended": True}]}
        r = api.post(f"/api/v1/training/sessions/{session['id']}/attendance", "supervisor", json=stale)
        assert r.status_code == 409
        assert db.session.scalar(select(TrainingParticipant.attendance)) is None


def test_who_may_do_what(api, world):
    staff_with_mail("ann")
    with freeze_time(datetime(2026, 4, 1, 10, tzinfo=SHANGHAI)):
        assert plan(api, "agent1").status_code == 403
        assert plan(api, "acme_user").status_code == 403
        session = plan(api, "techlead", invitees=[]).json
        assert api.get("/api/v1/training/sessions", "acme_user").status_code == 403
        assert api.get("/api/v1/training/sessions", "agent1").status_code == 200
        r = api.post(f"/api/v1/training/sessions/{session['id']}/participants", "agent1", json={"user": "ann"})
        assert r.status_code == 201
        r = api.post(f"/api/v1/training/sessions/{session['id']}/attendance", "agent1",
                     json={"version": 1, "attendance": [{"participant_id": r.json["id"], "attended": True}]})
        assert r.status_code == 403


def test_the_kpis_against_a_hand_count(api, world):
    """Q2 2026: two held staff sessions and one customer session; support staff: agent1, agent2,
    consultant1, consultant2 and ann (5). Staff session A: ann 90, agent1 55 (failed), agent2 missed.
    Staff session B: consultant1 60, agent1 70. Customer session (ACME): acme_user 80, two missed.
    A session held in Q3 and a planned one in Q2 do not count.
    Participation: attended 5 (ann, agent1, consultant1, agent1, acme_user) of 8 = 0.625.
    Coverage: passed (>= 60) ann, consultant1, agent1 (in B) = 3 of 5 = 0.6.
    Assessments: 5 scores, average (90 + 55 + 60 + 70 + 80) / 5 = 71.
    ACME alone: 1 of 3 attended, 1 assessment, average 80, no coverage."""
    staff_with_mail("ann")
    acme = world.customers["ACME"]

    def held(kind, start, people, customer=None):
        with freeze_time(start - timedelta(days=10)):
            api.forget_tokens()
            body = {"kind": kind, "title": "t", "starts_at": start.isoformat(),
                    "invitees": [p for p, _ in people if not p.startswith("@")],
                    "people": [{"name": p[1:], "email": f"{p[1:]}@acme.example"} for p, _ in people if p.startswith("@")]}
            if customer:
                body["customer_id"] = customer.id
            s = api.post("/api/v1/training/sessions", "supervisor", json=body).json
        if people and people[0][1] == "planned":
            return
        with freeze_time(start + timedelta(hours=3)):
            api.forget_tokens()
            by_name = {p["user"] or p["name"]: p["id"] for p in s["participants"]}
            entries = [{"participant_id": by_name[p.lstrip("@")], "attended": score is not None, "score": score}
                       for p, score in people]
            r = api.post(f"/api/v1/training/sessions/{s['id']}/attendance", "supervisor",
                         json={"version": s["version"], "attendance": entries})
            assert r.status_code == 200, r.json

    q2 = datetime(2026, 4, 10, 9, tzinfo=SHANGHAI)
    held("staff_technical", q2, [("ann", 90), ("agent1", 55), ("agent2", None)])
    held("staff_technical", q2 + timedelta(days=30), [("consultant1", 60), ("agent1", 70)])
    held("customer_user", q2 + timedelta(days=40), [("acme_user", 80), ("@li", None), ("@wang", None)], acme)
    held("staff_technical", datetime(2026, 7, 2, 9, tzinfo=SHANGHAI), [("agent2", 100)])
    held("staff_technical", q2 + timedelta(days=60), [("consultant2", "planned")])

    k = training.kpis(Period(date(2026, 4, 1), date(2026, 6, 30)))
    assert (k.sessions_held, k.attended, k.missed, k.participation) == (3, 5, 3, 5 / 8)
    assert (k.support_staff, k.staff_covered, k.coverage) == (5, 3, 0.6)
    assert (k.assessments, k.average_score) == (5, 71)
    mine = training.kpis(Period(date(2026, 4, 1), date(2026, 6, 30)), acme.id)
    assert (mine.sessions_held, mine.participation, mine.coverage, mine.assessments, mine.average_score) == (
        1, 1 / 3, None, 1, 80)
    api.forget_tokens()
    r = api.get("/api/v1/training/kpis?from=2026-04-01&to=2026-06-30", "supervisor")
    assert r.status_code == 200 and r.json["participation"] == 0.625 and r.json["coverage_target"] == 0.9
    section = training.review_section(Period(date(2026, 4, 1), date(2026, 6, 30)), None)
    figures = {f.key: f for f in section.figures}
    assert (figures["participation"].meets_target, figures["coverage"].meets_target) == (False, False)
    r = api.get("/api/v1/training/kpis?from=2026-06-30&to=2026-04-01", "supervisor")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "query.to"


def test_the_re_training_step_enrols_the_user_in_the_next_user_training(api, world):
    """The support process's retrain_user step with "also enrol": its next step enrols the case's
    reporter in the customer's next planned user training; without it, nobody is enrolled."""
    acme = world.customers["ACME"].id
    later = api.post("/api/v1/training/sessions", "supervisor", json={
        "kind": "customer_user", "title": "Later", "customer_id": acme,
        "starts_at": (datetime.now(SHANGHAI) + timedelta(days=20)).isoformat()}).json
    sooner = api.post("/api/v1/training/sessions", "supervisor", json={
        "kind": "customer_user", "title": "Sooner", "customer_id": acme,
        "starts_at": (datetime.now(SHANGHAI) + timedelta(days=5)).isoformat()}).json
    for enrol in (False, True):
        case = open_case(api, "acme_user", title="How do I export the customer list?")
        step(api, case["id"], "classify", {"category": "operation_problem", "priority": "low"})
        step(api, case["id"], "retrain_user", {"training_content": "Exporting", "trainees": "the reporter",
                                                "duration_minutes": 20, "enrol_in_training": enrol})
        assert only_task(api, case["id"])["element_id"] == "confirm"
    people = api.get(f"/api/v1/training/sessions/{sooner['id']}", "supervisor").json["participants"]
    assert [(p["user"], p["case_id"]) for p in people] == [("acme_user", case["id"])]
    assert api.get(f"/api/v1/training/sessions/{later['id']}", "supervisor").json["participants"] == []
    assert "training_enrolled" in db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case["id"])).all()
