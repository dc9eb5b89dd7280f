"""complaint_handling.bpmn and customer_follow_up.bpmn driven through the Engine; the state is dumped
and loaded again by a fresh engine after every step (tests/engine/conftest.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from freezegun import freeze_time

from tests.engine.conftest import CaseDriver, start_data


def ladder_of(case: CaseDriver) -> list[str]:
    return [w.element_id for w in case.run.waiting() if w.expression == "sla_alarm"]


def complaint() -> CaseDriver:
    return CaseDriver(data=start_data(description="The engineer missed the visit."), process_id="complaint_handling")


INVESTIGATION = {"investigation": "Calendar not updated.", "response": "We apologise; Monday 09:00.",
                 "complaint_outcome": "upheld"}


def to_survey(case: CaseDriver) -> None:
    case.complete("acknowledge_complaint", acknowledgement="We look into it.", contact_channel="phone",
                  severity="high")
    case.complete("investigate_complaint", **INVESTIGATION)
    case.complete("sign_off_complaint", decision="approve")


def test_a_complaint_is_acknowledged_investigated_signed_off_and_rated():
    case = complaint()
    task = case.task("acknowledge_complaint")
    assert (task.lane, task.prop("caseStage")) == ("complaint_officer", "complaint_acknowledge")
    assert ladder_of(case) == ["acknowledge_complaint_sla"]
    to_survey(case)
    assert case.handlers["send_complaint_response"].calls == [{"response": "We apologise; Monday 09:00.",
                                                               "outcome": "upheld"}]
    assert case.handlers["send_survey"].calls == [{"kind": "complaint"}]
    assert sorted(w.element_id for w in case.run.waiting()) == ["satisfaction_received", "satisfaction_timeout"]
    case.send_message("survey_answered", {"score": 5, "comment": "Thanks"})
    assert case.run.completed
    assert case.handlers["report_complaint_outcome"].calls == [
        {"outcome": "upheld", "response": "We apologise; Monday 09:00.", "satisfaction": {"score": 5, "comment": "Thanks"}}]


def test_the_supervisor_sends_the_response_back_and_takes_over_past_the_cap():
    case = complaint()
    case.complete("acknowledge_complaint", acknowledgement="x", contact_channel="email", severity="low")
    for turn in range(4):
        case.complete("investigate_complaint", **INVESTIGATION)
        task = case.task("sign_off_complaint")
        assert task.lane == "supervisor" and ladder_of(case) == ["sign_off_complaint_sla"]
        case.complete("sign_off_complaint", decision="send_back", sign_off_note=f"turn {turn}")
    assert case.data["send_backs"] == 4
    case.complete("supervisor_response", investigation="Checked.", response="Sorry.", complaint_outcome="upheld")
    assert case.handlers["send_complaint_response"].calls == [{"response": "Sorry.", "outcome": "upheld"}]


def test_a_low_score_goes_to_the_supervisor_and_no_answer_times_out():
    low = complaint()
    to_survey(low)
    low.send_message("survey_answered", {"score": 2})
    assert low.task("review_dissatisfaction").lane == "supervisor"
    low.complete("review_dissatisfaction", actions="Called back.", customer_contacted=True)
    assert low.run.completed

    start = datetime.now(timezone.utc)
    with freeze_time(start) as clock:
        silent = complaint()
        to_survey(silent)
        clock.tick(timedelta(days=7, seconds=1))
        silent.run.fire_due_timers()
        silent.roundtrip()
    assert silent.run.completed
    assert silent.handlers["report_complaint_outcome"].calls[0]["satisfaction"] is None


def test_the_follow_up_programme_opens_a_call_per_milestone_as_its_timers_fire():
    start = datetime(2030, 1, 1, tzinfo=timezone.utc)
    dues = {m: start + timedelta(days=30 * m) for m in (1, 3, 6, 12)}
    data = {f"follow_up_due_{m}": due.isoformat() for m, due in dues.items()}
    with freeze_time(start) as clock:
        case = CaseDriver(data={**data, "reached": False, "satisfaction": None, "feedback": None},
                          process_id="customer_follow_up")
        assert sorted(w.element_id for w in case.run.waiting()) == ["due_1", "due_12", "due_3", "due_6"]
        for months, due in dues.items():
            clock.move_to(due + timedelta(seconds=1))
            case.run.fire_due_timers()
            case.roundtrip()
            case.run.fire_due_timers()  # nothing more is due: no second call
            case.roundtrip()
            [task] = [t for t in case.run.user_tasks() if t.element_id == f"follow_up_call_{months}"]
            assert task.lane == "agent" and task.prop("assignment") == "round_robin"
            assert case.handlers["send_survey"].calls[-1] == {"kind": "follow_up", "milestone": months}
            case.run.complete(task.id, {"reached": True, "callback_channel": "phone",
                                        "satisfaction": 1 if months == 3 else 4})
            case.roundtrip()
    assert len(case.handlers["send_survey"].calls) == 4
    assert [c["origin"] for c in case.handlers["open_complaint"].calls] == ["low_score"]
    assert case.run.completed
