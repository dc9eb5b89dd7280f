"""Every branch of support_case.bpmn and the requirement evaluation it calls, driven through the
Engine; the state is dumped and loaded again by a fresh engine after every step."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from tests.engine.conftest import CaseDriver, Recorder, start_data


def classified(category: str, handlers: dict | None = None, **data) -> CaseDriver:
    case = CaseDriver(handlers=handlers, data=start_data(**data))
    case.complete("classify", category=category, priority="medium")
    return case


def close(case: CaseDriver) -> None:
    case.complete("confirm", confirmed=True)
    case.complete("callback", reached=True, callback_channel="phone", satisfaction=5)
    assert case.run.completed
    assert case.run.user_tasks() == [] and case.run.waiting() == []


def waiting_for(case: CaseDriver) -> list[tuple[str, str]]:
    """What the instance waits for, without the SLA alarms of open tasks."""
    return [(w.kind, w.name if w.kind == "message" else w.element_id) for w in case.run.waiting()
            if w.expression != "sla_alarm"]


def ladder_of(case: CaseDriver) -> list[str]:
    return [w.element_id for w in case.run.waiting() if w.expression == "sla_alarm"]


# -- short branches ----------------------------------------------------------------------------
def test_general_consultation_is_answered_at_once():
    case = classified("general_consultation")
    task = case.task("answer_consultation")
    assert (task.lane, task.prop("caseStage"), task.prop("caseFields")) == ("agent", "answering", "solution")
    assert ladder_of(case) == ["answer_consultation_sla"]
    case.complete("answer_consultation", answer="Use menu Reports > Export.", answer_channel="phone")
    assert case.data["solution"] == "Use menu Reports > Export."
    assert case.round_robin.calls == []  # no service order
    close(case)


def test_operation_problem_retrains_the_user():
    case = classified("operation_problem")
    task = case.task("retrain_user")
    assert task.lane == "agent" and task.prop("alsoRoles") == "service_consultant"
    case.complete("retrain_user", training_content="month-end closing", trainees="Ms Li (new accountant)",
                  duration_minutes=45)
    assert case.data["solution"] == "Re-training: month-end closing"
    close(case)


def test_hardware_repair_is_a_repair_order():
    case = classified("hardware_repair")
    task = case.task("repair_order")
    assert task.lane == "service_consultant" and ladder_of(case) == ["repair_order_sla"]
    case.complete("repair_order", appointment_start="2030-01-02T09:00:00+08:00",
                  appointment_end="2030-01-02T12:00:00+08:00", repair_log="Replaced the fuser.",
                  parts_replaced=["fuser"], repair_result="replaced")
    assert case.data["solution"] == "Replaced the fuser."
    close(case)


def test_a_complaint_runs_the_complaint_process_as_a_linked_case_and_waits_for_it():
    case = classified("complaint", description="The engineer missed the visit twice.")
    assert case.handlers["open_complaint"].calls == [{"origin": "case", "reason": "The engineer missed the visit twice."}]
    assert case.run.user_tasks() == [] and waiting_for(case) == [("message", "complaint_closed")]
    case.send_message("complaint_closed", {"complaint": "CF-2030-000002", "outcome": "upheld"})
    assert case.data["complaint_result"]["outcome"] == "upheld"
    close(case)


@pytest.mark.parametrize("category", ["data_problem", "configuration_problem", "performance_problem"])
def test_technical_problems_become_service_orders(category):
    case = classified(category)
    assert case.round_robin.calls == [{"ctx": None, "role": "service_consultant"}]
    case.complete("assign")
    case.complete("resolve", outcome="resolved", analysis="a", solution="s", contact_made=True,
                  service_mode="on_site", actions="visited", time_spent_minutes=90,
                  appointment_start="2030-01-02T09:00:00+08:00", appointment_end="2030-01-02T11:00:00+08:00")
    close(case)


# -- VIP channel ---------------------------------------------------------------------------------
def test_vip_service_order_goes_straight_to_the_dedicated_consultant():
    dedicated = Recorder("dana")
    case = classified("data_problem", {"dedicated_consultant": dedicated}, customer_tier="vip")
    assert dedicated.calls == [{"resolution_hours": 48}]  # priority medium
    assert case.round_robin.calls == []  # no queue, no assign step
    resolve = case.task("resolve")
    assert resolve.data["owner"] == "dana"
    case.complete("resolve", outcome="resolved", solution="s")
    close(case)


def test_vip_without_a_dedicated_consultant_joins_the_queue():
    dedicated = Recorder(None)
    case = classified("data_problem", {"dedicated_consultant": dedicated}, customer_tier="vip")
    assert len(dedicated.calls) == 1
    assert case.task("assign").data["owner"] == "alice"


def test_standard_customers_never_ask_for_a_dedicated_consultant():
    dedicated = Recorder("dana")
    case = classified("data_problem", {"dedicated_consultant": dedicated})
    assert dedicated.calls == [] and case.task("assign")


def test_a_rejected_answer_becomes_a_service_order():
    case = classified("general_consultation")
    case.complete("answer_consultation", answer="Restart it.", answer_channel="chat")
    case.complete("confirm", confirmed=False, confirmation_comment="Still broken")
    assert case.data["reopen_count"] == 1
    assert case.task("assign").data["owner"] == "alice"  # dispatched, once
    case.complete("assign")
    case.complete("resolve", outcome="resolved")
    case.complete("confirm", confirmed=False, confirmation_comment="no")
    assert case.task("resolve").data["reopen_count"] == 2  # back to its owner, not dispatched again
    assert len(case.round_robin.calls) == 1


# -- software bug: HQ and the fixed version -------------------------------------------------------
def test_software_bug_is_reported_to_hq_and_waits_for_the_fixed_version():
    case = classified("software_bug")
    report = case.handlers["report_to_hq"]
    assert report.calls == [{"category": "software_bug", "priority": "medium"}]
    assert case.run.user_tasks() == []
    assert waiting_for(case) == [("message", "fixed_version")]
    assert case.data["hq_report"] == {"report_id": 1, "status": "pending"}

    case.send_message("fixed_version", {"version": "7.2.1", "notes": "fixes the report query"})
    assert case.handlers["record_fixed_version"].calls == [{"version": "7.2.1", "notes": "fixes the report query"}]
    deliver = case.task("deliver_update")
    assert deliver.lane == "service_consultant" and deliver.data["installed_version"] == "7.2.1"
    assert ladder_of(case) == ["deliver_update_sla"]
    case.complete("deliver_update", installed_version="7.2.1", installed_on="2030-01-03")
    assert case.data["solution"] == "Installed version 7.2.1"
    close(case)


# -- environment: advice, waiting for the customer's data -----------------------------------------
def test_environment_problem_waits_for_the_customers_data():
    case = classified("environment_problem")
    case.complete("advise", advice_outcome="need_data", data_request="Send a copy of the database")
    assert waiting_for(case) == [("message", "customer_data")]
    assert case.data["info_requests"] == 1
    case.send_message("customer_data", {"text": "uploaded db.bak"})
    advise = case.task("advise")
    assert advise.data["customer_data"] == {"text": "uploaded db.bak"}
    case.complete("advise", advice_outcome="advised", advice="Rebuild the index")
    assert case.data["solution"] == "Rebuild the index"
    close(case)


def test_environment_data_requests_are_capped():
    case = classified("environment_problem")
    for n in range(5):
        case.complete("advise", advice_outcome="need_data", data_request="more")
        case.send_message("customer_data", {"n": n})
    case.complete("advise", advice_outcome="need_data", data_request="more")
    assert case.task("supervisor_review").data["info_requests"] == 6


# -- special service -------------------------------------------------------------------------------
def test_special_service_accepted_becomes_a_service_order():
    case = classified("special_service")
    task = case.task("negotiate_service")
    assert task.lane == "business_manager" and ladder_of(case) == ["negotiate_service_sla"]
    case.complete("negotiate_service", service_description="data migration", quote=12000, accepted=True)
    case.complete("assign")
    case.complete("resolve", outcome="resolved")
    close(case)


def test_special_service_declined_closes_with_the_reason():
    case = classified("special_service")
    case.complete("negotiate_service", service_description="data migration", quote=12000, accepted=False,
                  decline_reason="too expensive")
    assert case.data["closure_reason"] == "too expensive"
    case.complete("callback", reached=True, satisfaction=3)
    assert case.run.completed


# -- new requirement: the call activity ------------------------------------------------------------
ASSESSMENT = {"already_supported": False, "workaround_possible": False, "customer_agrees_secondary_development": True,
              "feasible": True, "meets_customer_date": True, "person_days": 8, "expected_acceptance": "likely"}


def evaluated(**assessment) -> CaseDriver:
    case = classified("new_requirement")
    contact = case.task("contact_requester")
    assert (contact.lane, contact.process_id) == ("business_manager", "requirement_evaluation")
    assert sorted(ladder_of(case)) == ["contact_requester_sla"]
    assert [w for w in waiting_for(case) if w[0] == "timer"] == [("timer", "contact_deadline")]
    case.complete("contact_requester", contacted_at="2030-01-02T10:00:00+08:00", contact_channel="phone",
                  requirement_summary="A sales report by region")
    assess = case.task("assess_requirement")
    assert assess.lane == "technical_lead" and assess.data["other_module_price"] == 0
    case.complete("assess_requirement", **{**ASSESSMENT, **assessment})
    return case


@pytest.mark.parametrize(("assessment", "outcome", "rule"), [
    ({"already_supported": True}, "use_existing", "RO1"),
    ({"workaround_possible": True}, "workaround", "RO2"),
    ({"feasible": False}, "decline", "RO3"),
    ({"customer_agrees_secondary_development": False}, "decline", "RO4"),
])
def test_outcomes_without_acceptance_return_at_once(assessment, outcome, rule):
    case = evaluated(**assessment)
    assert (case.data["proposed_outcome"], case.data["outcome_rule"]) == (outcome, rule)
    assert case.data["requirement_result"] == outcome
    assert case.data["quote"] == 0
    assert (case.data["closure_reason"] is not None) == (outcome == "decline")
    case.task("callback")  # back in support_case
    assert waiting_for(case) == [("timer", "callback_overdue")]  # the callback is due within 2 working days


@pytest.mark.parametrize(("assessment", "outcome", "quote"), [
    ({"person_days": 2}, "free_change", 0),
    ({"person_days": 5, "expected_acceptance": "unlikely"}, "free_change", 0),
    ({"person_days": 8}, "paid_change", 12000),
    ({"person_days": 8, "other_module_price": 3000}, "paid_change", 15000),
    ({"person_days": 8, "meets_customer_date": False}, "special_service", 12000),
    ({"person_days": 30}, "special_service", 45000),
])
def test_the_decision_table_proposes_outcome_and_quote(assessment, outcome, quote):
    case = evaluated(**assessment)
    assert (case.data["proposed_outcome"], case.data["quote"]) == (outcome, quote)
    assert sorted(waiting_for(case)) == [("message", "requirement_acceptance"), ("timer", "acceptance_timeout")]


def test_requirement_accepted_schedules_delivery_and_returns_to_callback():
    case = evaluated()
    case.send_message("requirement_acceptance", {"accepted": True})
    schedule = case.task("schedule_delivery")
    assert schedule.lane == "business_manager" and schedule.prop("alsoRoles") == "technical_lead"
    assert waiting_for(case) == []  # the timeout went with the other branch of the event gateway
    case.complete("schedule_delivery", scheduled_date="2030-03-01", delivery_scope="Sales report by region")
    assert case.data["requirement_result"] == "accepted"
    assert case.data["scheduled_date"] == "2030-03-01"  # the call activity hands its data back
    case.complete("callback", reached=True, satisfaction=5)
    assert case.run.completed


def test_requirement_declined_closes_with_the_reason():
    case = evaluated()
    case.send_message("requirement_acceptance", {"accepted": False, "reason": "over budget"})
    assert (case.data["requirement_result"], case.data["closure_reason"]) == ("declined", "over budget")
    case.complete("callback", reached=False, callback_channel="phone")
    assert case.run.completed


def test_requirement_without_an_answer_times_out_after_14_days():
    start = datetime.now(timezone.utc)
    with freeze_time(start) as clock:
        case = evaluated()
        [due] = [w.due_at for w in case.run.waiting() if w.element_id == "acceptance_timeout"]
        assert due - start == timedelta(days=14)
        clock.tick(timedelta(days=13))
        case.run.fire_due_timers()
        case.roundtrip()
        assert sorted(waiting_for(case)) == [("message", "requirement_acceptance"), ("timer", "acceptance_timeout")]
        clock.tick(timedelta(days=1, seconds=1))
        case.run.fire_due_timers()
        case.roundtrip()
    assert case.data["requirement_result"] == "timed_out"
    assert case.data["closure_reason"] == "no answer to the proposal within P14D"
    case.task("callback")
    assert waiting_for(case) == [("timer", "callback_overdue")]


def test_a_missed_contact_deadline_is_noted_and_the_task_stays():
    start = datetime.now(timezone.utc)
    with freeze_time(start) as clock:
        case = classified("new_requirement")
        clock.tick(timedelta(days=1, seconds=1))
        case.run.fire_due_timers()
        case.roundtrip()
    assert case.handlers["deadline_missed"].calls == [{"step": "contact_requester"}]
    assert case.task("contact_requester")


def test_a_technical_problem_re_judged_as_a_requirement_is_evaluated():
    case = classified("data_problem")
    case.complete("assign")
    case.complete("resolve", outcome="new_requirement", analysis="Works as designed; they want a new report.")
    assert case.data["category"] == "new_requirement"
    assert case.task("contact_requester").process_id == "requirement_evaluation"
