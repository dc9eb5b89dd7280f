"""The real support_case process, driven through the Engine; the state is dumped and loaded
again after every step (see CaseDriver.roundtrip)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from engine.errors import HandlerError, NotWaiting, ProcessError, TaskNotReady
from tests.engine.conftest import PROCESS_ID, VERSION_KEY, CaseDriver, start_data


# -- happy path ------------------------------------------------------------------------------
def test_happy_path_runs_to_completion(case: CaseDriver):
    classify = case.task("classify")
    assert classify.lane == "agent"
    assert classify.prop("formJsonSchemaFilename") == "classify.schema.json"
    assert classify.data["reopen_count"] == 0 and classify.data["info_requests"] == 0
    case.complete("classify", category="data_problem", priority="high")  # the service-order path

    assign = case.task("assign")
    assert assign.lane == "agent"
    assert case.round_robin.calls == [{"ctx": None, "role": "service_consultant"}]
    assert assign.data["suggested_owner"] == "alice"
    assert assign.data["owner"] == "alice"
    due = datetime.fromisoformat(assign.data["due_at"])
    # priority "high" chosen at classify → 16 resolution hours
    assert timedelta(hours=15) < due - datetime.now(timezone.utc) <= timedelta(hours=16)
    case.complete("assign", owner="bob")

    assert case.task("resolve").lane == "service_consultant"
    case.complete("resolve", outcome="resolved", solution="restart it")
    confirm = case.task("confirm")
    assert confirm.lane == "customer"
    assert confirm.prop("alsoRoles") == "agent"
    case.complete("confirm", confirmed=True)

    assert case.task("callback").lane == "agent"
    assert not case.run.completed
    case.complete("callback", satisfaction=5)

    assert case.run.completed is True
    assert case.run.user_tasks() == []
    assert case.run.waiting() == []
    assert case.data["satisfaction"] == 5
    assert case.data["owner"] == "bob"
    assert case.data["reopen_count"] == 0


def test_completion_reports_the_task_and_its_data(case: CaseDriver):
    completion = case.complete("classify", category="software_bug", priority="urgent")
    assert completion.task.element_id == "classify"
    assert completion.data["category"] == "software_bug"
    assert completion.data["priority"] == "urgent"


# -- classification proposal (DMN classify_case) ----------------------------------------------
@pytest.mark.parametrize(
    ("overrides", "category", "priority", "rule"),
    [
        ({"title": "I want to file a complaint about your staff"}, "complaint", "high", "R01"),
        ({"title": "我要投诉", "description": "服务太差"}, "complaint", "high", "R01"),
        ({"title": "投诉：系统宕机"}, "complaint", "high", "R01"),  # FIRST hit: R01 before R02
        ({"title": "系统宕机"}, "environment_problem", "urgent", "R02"),
        ({"title": "Server", "description": "The ERP server is down since 9:00"},
         "environment_problem", "urgent", "R02"),
        ({"title": "Export fails", "description": "An error message appears", "customer_tier": "vip"},
         "software_bug", "high", "R05"),
        ({"title": "Export fails", "description": "An error message appears", "customer_tier": "standard"},
         "software_bug", "medium", "R06"),
        ({"title": "保存时报错"}, "software_bug", "medium", "R06"),
        ({"title": "ERROR on SAVE"}, "software_bug", "medium", "R06"),  # the text is lower-cased
        ({"title": "Something", "environment": "raises an Exception in prod"},
         "software_bug", "medium", "R06"),  # environment is part of the text
        ({"title": "Export", "category_hint": "data_problem"}, "data_problem", "medium", "R04"),
        ({"title": "Export", "category_hint": "data_problem", "customer_tier": "vip"},
         "data_problem", "high", "R03"),
        ({"title": "Export shows an error", "category_hint": "data_problem"},
         "data_problem", "medium", "R04"),  # a named category wins over the error words
        ({"title": "报表数据对不上"}, "data_problem", "medium", "R07"),
        ({"title": "The report is very slow"}, "performance_problem", "medium", "R08"),
        ({"title": "页面卡顿"}, "performance_problem", "medium", "R08"),
        ({"title": "修改配置"}, "configuration_problem", "medium", "R09"),
        ({"title": "Need a new report for sales"}, "new_requirement", "low", "R10"),
        ({"title": "如何导出数据"}, "operation_problem", "low", "R11"),
        ({"title": "How to export the ledger"}, "operation_problem", "low", "R11"),
        ({"title": "打印机坏了"}, "hardware_repair", "medium", "R12"),
        ({"title": "Question about our account"}, "general_consultation", "low", "R13"),
        ({"title": "你好", "description": None, "environment": None}, "general_consultation", "low", "R13"),
    ],
)
def test_classification_proposal(overrides, category, priority, rule):
    case = CaseDriver(data=start_data(**overrides))
    task = case.task("classify")
    assert (task.data["proposed_category"], task.data["proposed_priority"], task.data["rule_id"]) == (
        category, priority, rule)
    # the form is pre-filled with the proposal
    assert task.data["category"] == category
    assert task.data["priority"] == priority
    assert task.data["classification_rule"]["rule"] == rule
    assert task.data["classification_rule"]["reason"] == task.data["rule_reason"]
    assert task.data["rule_reason"]


def test_priority_hint_overrides_the_proposed_priority():
    case = CaseDriver(data=start_data(title="系统宕机", priority_hint="low"))
    task = case.task("classify")
    assert task.data["proposed_priority"] == "urgent"
    assert task.data["priority"] == "low"


# -- need information: message loop ------------------------------------------------------------
def test_need_info_waits_for_the_customer_reply_and_keeps_the_payload(case: CaseDriver):
    case.to_resolve()
    case.complete("resolve", outcome="need_info", question="Which version?")
    assert case.run.user_tasks() == []
    assert not case.run.completed
    waiting = case.run.waiting()
    assert [(w.kind, w.name) for w in waiting] == [("message", "customer_reply")]
    assert case.data["info_requests"] == 1

    case.send_message("customer_reply", {"text": "Version 7.2", "attachments": ["log.txt"]})
    resolve = case.task("resolve")
    assert resolve.data["customer_reply"] == {"text": "Version 7.2", "attachments": ["log.txt"]}
    # only the SLA ladder's alarm on the open task waits (the application sets it; see cases/sla/clock.py)
    assert [(w.kind, w.element_id) for w in case.run.waiting()] == [("timer", "resolve_sla")]

    case.complete("resolve", outcome="need_info")
    case.send_message("customer_reply", {"text": "second answer"})
    assert case.task("resolve").data["customer_reply"] == {"text": "second answer"}
    assert case.data["info_requests"] == 2

    case.complete("resolve", outcome="resolved")
    case.complete("confirm", confirmed=True)
    case.complete("callback", satisfaction=4)
    assert case.run.completed
    assert case.data["customer_reply"] == {"text": "second answer"}


def test_message_when_nothing_waits_raises_not_waiting(case: CaseDriver):
    with pytest.raises(NotWaiting):
        case.run.send_message("customer_reply", {"text": "too early"})
    # nothing changed
    assert case.task("classify")
    case.to_resolve()
    case.complete("resolve", outcome="need_info")
    with pytest.raises(NotWaiting):
        case.run.send_message("some_other_message", {})
    case.send_message("customer_reply", {"text": "ok"})
    with pytest.raises(NotWaiting):  # the one waiting catch event has been used up
        case.run.send_message("customer_reply", {"text": "again"})
    assert case.task("resolve")


def test_info_requests_past_the_cap_go_to_supervisor_review(case: CaseDriver):
    case.to_resolve()
    for n in range(1, 6):  # max_info_requests = 5 requests are allowed
        case.complete("resolve", outcome="need_info")
        assert [w.name for w in case.run.waiting()] == ["customer_reply"]
        assert case.data["info_requests"] == n
        case.send_message("customer_reply", {"n": n})
    case.complete("resolve", outcome="need_info")  # the 6th
    review = case.task("supervisor_review")
    assert review.lane == "supervisor"
    assert case.run.waiting() == []
    assert review.data["info_requests"] == 6
    assert review.data["turns"] == 6 and review.data["can_continue"] is True
    case.complete("supervisor_review", decision="close")
    case.complete("callback", satisfaction=2)
    assert case.run.completed


# -- reject and reopen -------------------------------------------------------------------------
def test_rejection_reopens_and_returns_to_resolve(case: CaseDriver):
    case.to_resolve()
    case.complete("resolve", outcome="resolved")
    case.complete("confirm", confirmed=False, reason="still broken")
    resolve = case.task("resolve")
    assert resolve.data["reopen_count"] == 1
    case.complete("resolve", outcome="resolved")
    case.complete("confirm", confirmed=False)
    assert case.task("resolve").data["reopen_count"] == 2


def test_fourth_rejection_goes_to_supervisor_review(case: CaseDriver):
    case.to_resolve()
    for n in range(1, 4):  # max_reopens = 3
        case.complete("resolve", outcome="resolved")
        case.complete("confirm", confirmed=False)
        assert case.task("resolve").data["reopen_count"] == n
    case.complete("resolve", outcome="resolved")
    case.complete("confirm", confirmed=False)
    review = case.task("supervisor_review")
    assert review.data["reopen_count"] == 4
    assert review.data["turns"] == 4 and review.data["can_continue"] is True
    case.complete("supervisor_review", decision="continue")
    case.complete("resolve", outcome="resolved")
    case.complete("confirm", confirmed=True)
    case.complete("callback", satisfaction=3)
    assert case.run.completed


# -- the depth cliff guard ---------------------------------------------------------------------
def _answer(case: CaseDriver, element_id: str, pattern: str, turn: int) -> None:
    if element_id == "resolve":
        need_info = pattern == "need_info" or (pattern == "mixed" and turn % 2 == 0)
        case.complete("resolve", outcome="need_info" if need_info else "resolved")
        if any(w.kind == "message" and w.name == "customer_reply" for w in case.run.waiting()):
            case.send_message("customer_reply", {"turn": turn})
    elif element_id == "confirm":
        case.complete("confirm", confirmed=False)
    elif element_id == "supervisor_review":
        case.complete("supervisor_review", decision="continue")
    else:  # pragma: no cover - the loop below only reaches these tasks
        raise AssertionError(f"unexpected task {element_id}")


@pytest.mark.parametrize("pattern", ["reject", "need_info", "mixed"])
def test_endless_reopening_ends_at_callback_after_max_turns(pattern):
    case = CaseDriver(data=start_data(title="Printer keeps failing"))
    case.to_resolve()
    max_turns = case.data["max_turns"]
    assert max_turns == 30
    reviews = 0
    steps = 0
    while case.task().element_id != "callback":
        steps += 1
        assert steps < 500, "the case never reached callback"
        assert not case.run.completed, "the instance completed while the case is still open"
        element_id = case.task().element_id
        turns_before = case.data["reopen_count"] + case.data["info_requests"]
        assert turns_before <= max_turns
        if element_id == "supervisor_review":
            reviews += 1
            review = case.task()
            assert review.data["turns"] == turns_before
            assert review.data["can_continue"] is (turns_before < max_turns)
        _answer(case, element_id, pattern, turns_before)

    turns = case.data["reopen_count"] + case.data["info_requests"]
    assert turns == max_turns
    if pattern == "reject":
        assert case.data["reopen_count"] == 30 and case.data["info_requests"] == 0
        assert reviews == 27  # rejections 4..30 each went to the supervisor
    elif pattern == "need_info":
        assert case.data["info_requests"] == 30 and case.data["reopen_count"] == 0
        assert reviews == 25  # requests 6..30
    # the last review could not continue: its "continue" was not honoured
    assert case.data["decision"] == "continue" and case.data["can_continue"] is False

    # still open at callback, and only completing callback completes it
    assert not case.run.completed
    assert [w.element_id for w in case.run.waiting()] == ["callback_overdue"]  # only the callback deadline
    case.complete("callback", satisfaction=1)
    assert case.run.completed is True
    assert case.run.user_tasks() == []
    assert case.data["satisfaction"] == 1


# -- serialization -----------------------------------------------------------------------------
def test_serialized_state_does_not_contain_the_spec(case: CaseDriver):
    state = case.run.dump()
    dct = json.loads(state)
    assert "spec" not in dct
    assert "subprocess_specs" not in dct
    assert "task_specs" not in dct
    assert "task_specs" not in state
    assert len(state) < len(case.spec_json) / 2
    # the spec itself is what build() produced, once per version
    specs = json.loads(case.spec_json)
    assert PROCESS_ID in specs
    assert "task_specs" in json.dumps(specs[PROCESS_ID]["spec"])


def test_every_state_of_a_case_is_spec_free(case: CaseDriver):
    case.to_resolve()
    case.complete("resolve", outcome="need_info")
    case.send_message("customer_reply", {"text": "x"})
    case.complete("resolve", outcome="resolved")
    case.complete("confirm", confirmed=True)
    case.complete("callback", satisfaction=5)
    assert len(case.states) == 8
    for state in case.states:
        assert "task_specs" not in state
        assert "task_specs" not in json.loads(state)


def test_load_needs_the_version_spec():
    case = CaseDriver()
    engine = case.new_engine()
    state = case.run.dump()
    with pytest.raises(KeyError):
        engine.load("unknown-version", PROCESS_ID, state)
    loaded = engine.load(VERSION_KEY, PROCESS_ID, state)
    assert [t.element_id for t in loaded.user_tasks()] == ["classify"]


# -- task ids --------------------------------------------------------------------------------
@pytest.mark.parametrize("task_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", ""])
def test_unknown_task_id_raises_task_not_ready(case: CaseDriver, task_id):
    with pytest.raises(TaskNotReady):
        case.run.complete(task_id, {})
    assert case.task("classify")


def test_completing_a_task_twice_raises_task_not_ready(case: CaseDriver):
    classify_id = case.task("classify").id
    case.complete("classify")
    with pytest.raises(TaskNotReady):
        case.run.complete(classify_id, {"category": "complaint"})
    assert case.task("answer_consultation")  # the proposal stood: a general consultation
    assert case.data["category"] == "general_consultation"


# -- failing steps ---------------------------------------------------------------------------
def test_handler_error_becomes_process_error_naming_the_service_task():
    def round_robin_user(ctx, role):
        raise HandlerError("no_users", f"nobody has the role {role}")

    case = CaseDriver(handlers={"round_robin_user": round_robin_user})
    task = case.task("classify")
    with pytest.raises(ProcessError) as info:
        case.run.complete(task.id, {"category": "data_problem"})  # a service order: round robin
    assert info.value.element == "suggest_owner"
    assert info.value.element_name == "Suggest owner (round robin)"
    assert "nobody has the role service_consultant" in info.value.message


def test_unexpected_handler_exception_becomes_process_error_too():
    def round_robin_user(ctx, role):
        raise RuntimeError("directory unreachable")

    case = CaseDriver(handlers={"round_robin_user": round_robin_user})
    with pytest.raises(ProcessError) as info:
        case.run.complete(case.task("classify").id, {"category": "data_problem"})
    assert info.value.element == "suggest_owner"
    assert "directory unreachable" in info.value.message
    assert not case.run.completed


def test_failing_script_becomes_process_error_naming_the_script_task():
    engine = CaseDriver().new_engine()
    with pytest.raises(ProcessError) as info:
        engine.start(VERSION_KEY, PROCESS_ID, start_data(title=None))
    assert info.value.element == "init_case"
    assert info.value.element_name == "Intake"
    assert "TypeError" in info.value.message or "str" in info.value.message


def test_missing_start_data_becomes_process_error_naming_the_script_task():
    engine = CaseDriver().new_engine()
    data = start_data()
    del data["title"]
    with pytest.raises(ProcessError) as info:
        engine.start(VERSION_KEY, PROCESS_ID, data)
    assert info.value.element == "init_case"
    assert "title" in info.value.message


def test_unknown_process_id_is_a_process_error():
    engine = CaseDriver().new_engine()
    with pytest.raises(ProcessError):
        engine.start(VERSION_KEY, "no_such_process", start_data())
