"""Checks on the process files' XML before SpiffWorkflow reads them: every problem of every file at
once, each with its file, element and line, worded for a process owner (engine/messages.py).

In the spirit of bpmnlint's recommended rules (start/end events, unreachable elements, dead ends,
dangling flows, gateway conditions and defaults) plus what caseflow does not support: elements and
event kinds SpiffWorkflow or caseflow cannot run, other engines' settings (Camunda, Zeebe, Activiti,
Flowable), JUEL and non-Python expressions, timers foreign tools write, FEEL in decision tables.
Everything is iterative and linear in the size of the file (no recursion: deep or long diagrams
get a sentence, never a RecursionError)."""
from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from copy import deepcopy
from typing import Any

from lxml import etree

from engine.errors import Problem, problem
from engine.sandbox import Sandbox, SandboxError

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
DMN_NAMESPACES = ("https://www.omg.org/spec/DMN/20191111/MODEL/", "http://www.omg.org/spec/DMN/20180521/MODEL/",
                  "http://www.omg.org/spec/DMN/20151101/dmn.xsd")
FOREIGN = {
    "http://camunda.org/schema/1.0/bpmn": "Camunda", "http://camunda.org/schema/zeebe/1.0": "Zeebe",
    "http://activiti.org/bpmn": "Activiti", "http://flowable.org/bpmn": "Flowable",
}
#: the longest path (in steps) and the deepest subprocess nesting caseflow accepts in one process
MAX_PATH_STEPS = 300
MAX_NESTING = 10
#: problems after which SpiffWorkflow is not asked to read the files at all
UNREADABLE = frozenset({"not_utf8", "malformed_xml", "too_deep_xml", "not_bpmn", "not_dmn", "path_too_long",
                        "nesting_too_deep", "schema"})
#: at most this many problems of one kind per file (then one line saying how many more)
MAX_PER_KIND = 25

ACTIVITIES = ("task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess")
GATEWAYS = ("exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway")
EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
FLOW_NODES = frozenset(ACTIVITIES + GATEWAYS + EVENTS)
SCOPES = ("process", "subProcess", "transaction", "adHocSubProcess")

#: event kind -> the events it may sit on in caseflow
EVENT_KINDS = {
    "messageEventDefinition": {"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                               "boundaryEvent"},
    "timerEventDefinition": {"startEvent", "intermediateCatchEvent", "boundaryEvent"},
    "signalEventDefinition": {"startEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"},
    "errorEventDefinition": {"endEvent", "boundaryEvent", "startEvent"},
    "escalationEventDefinition": {"endEvent", "intermediateThrowEvent", "boundaryEvent", "startEvent"},
    "terminateEventDefinition": {"endEvent"},
}
#: elements caseflow does not run: (what, what in Chinese, what to do, what to do in Chinese)
UNSUPPORTED = {
    "dataStoreReference": ("data stores", "数据存储",
                           "keep the data in the case's variables (task data and scripts) and delete the data store",
                           "请把数据放在案件变量（任务数据和脚本）中并删除数据存储"),
    "dataStore": ("data stores", "数据存储",
                  "keep the data in the case's variables (task data and scripts) and delete the data store",
                  "请把数据放在案件变量（任务数据和脚本）中并删除数据存储"),
    "complexGateway": ("complex gateways", "复杂网关",
                       "use an exclusive, inclusive or parallel gateway", "请使用排他、包容或并行网关"),
    "transaction": ("transaction subprocesses", "事务子流程",
                    "use a plain subprocess with an error boundary event", "请使用普通子流程加错误边界事件"),
    "adHocSubProcess": ("ad-hoc subprocesses", "自由子流程",
                        "model the order of the steps with gateways", "请用网关表达步骤顺序"),
    "choreographyTask": ("choreographies", "编排", "model one process per participant", "请为每个参与方建一个流程"),
    "subChoreography": ("choreographies", "编排", "model one process per participant", "请为每个参与方建一个流程"),
    "callChoreography": ("choreographies", "编排", "model one process per participant", "请为每个参与方建一个流程"),
    "standardLoopCharacteristics": ("loop markers on tasks", "任务上的循环标记",
                                    "loop with an exclusive gateway back to the task, and cap the turns",
                                    "请用回到该任务的排他网关循环并限制次数"),
}
UNSUPPORTED_EVENTS = {
    "conditionalEventDefinition": ("conditional events", "条件事件",
                                   "use a message event the application sends, or a timer", "请改用应用发送的消息事件或计时器"),
    "compensateEventDefinition": ("compensation events", "补偿事件",
                                  "undo the work in an explicit task on an error path", "请在错误路径上用显式任务撤销工作"),
    "linkEventDefinition": ("link events", "链接事件", "draw the sequence flow directly", "请直接画出顺序流"),
    "cancelEventDefinition": ("cancel events", "取消事件",
                              "use an error end event and an error boundary event", "请使用错误结束事件和错误边界事件"),
}
#: what to use instead of other engines' settings
FOREIGN_ADVICE = {
    "assignee": ("put the task in the lane of the role that works on it and set the 'assignment' property",
                 "请把任务放入负责角色的泳道并设置 'assignment' 属性"),
    "candidateUsers": ("put the task in the lane of the role that works on it", "请把任务放入负责角色的泳道"),
    "candidateGroups": ("put the task in the lane of the role that works on it", "请把任务放入负责角色的泳道"),
    "formKey": ("name the task's JSON schema in the property formJsonSchemaFilename",
                "请在属性 formJsonSchemaFilename 中填写任务的 JSON schema"),
    "formRef": ("name the task's JSON schema in the property formJsonSchemaFilename",
                "请在属性 formJsonSchemaFilename 中填写任务的 JSON schema"),
    "class": ("name a caseflow handler in spiffworkflow:serviceTaskOperator",
              "请在 spiffworkflow:serviceTaskOperator 中填写 caseflow 的处理程序"),
    "delegateExpression": ("name a caseflow handler in spiffworkflow:serviceTaskOperator",
                           "请在 spiffworkflow:serviceTaskOperator 中填写 caseflow 的处理程序"),
    "expression": ("name a caseflow handler in spiffworkflow:serviceTaskOperator, or write a script task",
                   "请在 spiffworkflow:serviceTaskOperator 中填写处理程序，或改用脚本任务"),
    "type": ("name a caseflow handler in spiffworkflow:serviceTaskOperator",
             "请在 spiffworkflow:serviceTaskOperator 中填写 caseflow 的处理程序"),
    "topic": ("name a caseflow handler in spiffworkflow:serviceTaskOperator",
              "请在 spiffworkflow:serviceTaskOperator 中填写 caseflow 的处理程序"),
    "taskDefinition": ("name a caseflow handler in spiffworkflow:serviceTaskOperator",
                       "请在 spiffworkflow:serviceTaskOperator 中填写 caseflow 的处理程序"),
    "inputOutput": ("set and read variables in spiffworkflow:preScript / postScript",
                    "请在 spiffworkflow:preScript / postScript 中设置和读取变量"),
    "ioMapping": ("set and read variables in spiffworkflow:preScript / postScript",
                  "请在 spiffworkflow:preScript / postScript 中设置和读取变量"),
    "formData": ("describe the form in a JSON schema named by formJsonSchemaFilename",
                 "请用 formJsonSchemaFilename 指定的 JSON schema 描述表单"),
    "taskListener": ("do the work in spiffworkflow:preScript / postScript or a service task",
                     "请在 spiffworkflow:preScript / postScript 或服务任务中完成"),
    "executionListener": ("do the work in spiffworkflow:preScript / postScript or a service task",
                          "请在 spiffworkflow:preScript / postScript 或服务任务中完成"),
    "calledElement": ("name the process in the call activity's calledElement attribute",
                      "请在调用活动的 calledElement 属性中填写流程"),
    "decisionRef": ("name the decision in spiffworkflow:calledDecisionId", "请在 spiffworkflow:calledDecisionId 中填写决策"),
}
#: settings of other engines that change nothing in how caseflow runs the diagram (not reported)
HARMLESS_FOREIGN = {"asyncBefore", "asyncAfter", "exclusive", "jobPriority", "versionTag", "historyTimeToLive",
                    "isStartableInTasklist", "modelerTemplate", "modelerTemplateVersion", "properties", "property"}

ISO_DURATION = re.compile(r"^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                          r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
ISO_CYCLE = re.compile(r"^R\d*/")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _ns(node: etree._Element) -> str:
    return etree.QName(node).namespace or "" if isinstance(node.tag, str) else ""


def _label(node: etree._Element) -> str:
    name, element_id = node.get("name"), node.get("id")
    return f"'{name}' ({element_id})" if name and name != element_id else f"'{element_id}'"


class _Collector:
    """Problems of one file, at most MAX_PER_KIND of each kind."""

    def __init__(self, file: str):
        self.file = file
        self.problems: list[Problem] = []
        self._counts: dict[str, int] = {}
        self._first: dict[str, Problem] = {}

    def add(self, code: str, node: etree._Element | None, **params: Any) -> None:
        count = self._counts.get(code, 0) + 1
        self._counts[code] = count
        if count <= MAX_PER_KIND:
            line = node.sourceline if node is not None else None
            element = node.get("id") if node is not None else None
            found = problem(code, self.file, element, line, **params)
            self.problems.append(found)
            self._first.setdefault(code, found)

    def done(self) -> list[Problem]:
        for code, count in self._counts.items():
            if count > MAX_PER_KIND:
                first = self._first[code]
                self.problems.append(problem("too_many_problems", self.file, first.element, first.line,
                                             count=count - MAX_PER_KIND))
        return self.problems


def read(name: str, content: bytes) -> tuple[etree._Element | None, list[Problem]]:
    """Parse one file's XML; a file that cannot be parsed gets one problem with its line."""
    try:
        content.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, [problem("not_utf8", name, None, None, byte=exc.start)]
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        return etree.fromstring(content, parser), []
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, 0)
        if "depth" in (exc.msg or "").lower():
            return None, [problem("too_deep_xml", name, None, line, limit=256)]
        what, what_zh = _syntax_kind(exc.msg or "")
        return None, [problem("malformed_xml", name, None, line, row=line, column=column, what=what,
                              what_zh=what_zh)]


def _syntax_kind(message: str) -> tuple[str, str]:
    """A short plain description of an XML syntax error (not the parser's own text)."""
    lowered = message.lower()
    for needle, words, words_zh in (
            ("tag mismatch", "a closing tag does not match its opening tag", "结束标签与开始标签不匹配"),
            ("premature end", "the file ends before every element is closed", "文件在所有元素闭合前就结束了"),
            ("extra content", "there is content after the end of the document", "文档结束后还有内容"),
            ("namespace prefix", "a namespace prefix is used without being declared", "使用了未声明的命名空间前缀"),
            ("start tag", "a start tag is not closed", "开始标签没有闭合"),
            ("attribute", "an attribute is written wrongly", "属性写法错误"),
            ("document is empty", "the file is empty", "文件为空"),
            ("entity", "an entity or & is written wrongly", "实体或 & 写法错误")):
        if needle in lowered:
            return words, words_zh
    return "the markup is broken", "标记损坏"


# --- BPMN -------------------------------------------------------------------------------------

def check_bpmn(name: str, root: etree._Element, operations: Iterable[str]) -> list[Problem]:
    out = _Collector(name)
    if _ns(root) != BPMN or _local(root) != "definitions":
        out.add("not_bpmn", root, root=_local(root) or str(root.tag))
        return out.done()
    _unsupported(root, out)
    _foreign(root, out)
    _expressions(root, out)
    known = sorted(set(operations))
    for service in root.iter(f"{{{BPMN}}}serviceTask"):
        operator = next(service.iter(f"{{{SPIFF}}}serviceTaskOperator"), None)
        if operator is None or not operator.get("id"):
            out.add("service_without_operator", service, operators=", ".join(known))
    for process in root.iterfind(f"{{{BPMN}}}process"):
        if process.get("isExecutable", "false").lower() != "true":
            out.add("not_executable", process, process=process.get("id"))
    _structure(root, out)
    return out.done()


def _unsupported(root: etree._Element, out: _Collector) -> None:
    for node in root.iter():
        if _ns(node) != BPMN:
            continue
        tag = _local(node)
        if tag in UNSUPPORTED:
            what, what_zh, instead, instead_zh = UNSUPPORTED[tag]
            out.add("unsupported_element", node, what=what, what_zh=what_zh, instead=instead, instead_zh=instead_zh)
        elif tag in UNSUPPORTED_EVENTS:
            what, what_zh, instead, instead_zh = UNSUPPORTED_EVENTS[tag]
            out.add("unsupported_element", node.getparent(), what=what, what_zh=what_zh, instead=instead,
                    instead_zh=instead_zh)
        elif tag in EVENT_KINDS:
            event = node.getparent()
            kind = _local(event)
            if kind not in EVENT_KINDS[tag] or (tag == "signalEventDefinition" and kind == "endEvent"):
                what = f"a {tag[:-len('EventDefinition')]} {_event_words(kind)}"
                out.add("unsupported_element", event, what=what, what_zh=what,
                        instead=_event_instead(tag, kind), instead_zh=_event_instead(tag, kind, zh=True))
        elif tag in EVENTS:
            kinds = [c for c in node if _ns(c) == BPMN and _local(c).endswith("EventDefinition")]
            if not kinds and tag == "boundaryEvent":
                out.add("unsupported_element", node, what="a boundary event without a trigger",
                        what_zh="没有触发器的边界事件", instead="give it a timer, message, error, signal or escalation",
                        instead_zh="请为它设置计时器、消息、错误、信号或升级触发器")
            if len(kinds) > 1:
                out.add("unsupported_element", node, what="several event definitions on one event",
                        what_zh="一个事件上的多个事件定义", instead="give each event one trigger",
                        instead_zh="请每个事件只设一个触发器")


def _event_words(kind: str) -> str:
    return {"startEvent": "start event", "endEvent": "end event", "intermediateCatchEvent": "catch event",
            "intermediateThrowEvent": "throw event", "boundaryEvent": "boundary event"}.get(kind, kind)


def _event_instead(tag: str, kind: str, zh: bool = False) -> str:
    if tag == "signalEventDefinition" and kind == "endEvent":
        return ("请用中间信号抛出事件后接普通结束事件" if zh else
                "use an intermediate signal throw event followed by a plain end event")
    if tag == "timerEventDefinition":
        return "请把计时器放在捕获事件或边界事件上" if zh else "put the timer on a catch event or a boundary event"
    if tag == "errorEventDefinition":
        return ("请用错误结束事件抛出、用边界事件捕获" if zh else
                "throw errors with an error end event and catch them with a boundary event")
    return "请使用 docs/process.md 中列出的事件类型" if zh else "use one of the event kinds docs/process.md lists"


def _foreign(root: etree._Element, out: _Collector) -> None:
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        namespace = _ns(node)
        if namespace in FOREIGN:  # an extension element of another engine
            tag = _local(node)
            if tag in FOREIGN_ADVICE:
                owner = node
                while owner is not None and (_ns(owner) != BPMN or _local(owner) == "extensionElements"):
                    owner = owner.getparent()
                instead, instead_zh = FOREIGN_ADVICE[tag]
                out.add("foreign_attribute", owner if owner is not None else node, tool=FOREIGN[namespace],
                        attribute=f"<{tag}>", instead=instead, instead_zh=instead_zh)
            continue
        if namespace != BPMN or _local(node) not in FLOW_NODES:
            continue
        for attribute in node.attrib:
            qname = etree.QName(attribute)
            if qname.namespace in FOREIGN and qname.localname not in HARMLESS_FOREIGN:
                instead, instead_zh = FOREIGN_ADVICE.get(qname.localname, (
                    "remove it and model the behaviour with caseflow's properties (docs/process.md)",
                    "请删除它，并用 caseflow 的属性表达（docs/process.md）"))
                out.add("foreign_attribute", node, tool=FOREIGN[qname.namespace], attribute=qname.localname,
                        instead=instead, instead_zh=instead_zh)


def _expressions(root: etree._Element, out: _Collector) -> None:
    for script in root.iter(f"{{{BPMN}}}scriptTask"):
        language = script.get("scriptFormat")
        if language and language.lower() not in ("python", "text/python", "text/x-python", "python3"):
            out.add("script_language", script, language=language)
    for expression in root.iter(f"{{{BPMN}}}conditionExpression"):
        owner = expression.getparent()
        language = expression.get("language")
        text = (expression.text or "").strip()
        if language and "python" not in language.lower():
            out.add("script_language", owner, language=language)
        elif text.startswith(("${", "#{")):
            out.add("juel", owner, source=text, example='category == "software_bug"')
    for timer in root.iter(f"{{{BPMN}}}timerEventDefinition"):
        event = timer.getparent()
        specs = [c for c in timer if _ns(c) == BPMN and _local(c) in ("timeDuration", "timeDate", "timeCycle")]
        if not specs:
            out.add("timer_empty", event)
            continue
        for spec in specs:
            _timer(spec, event, out)


def _timer(spec: etree._Element, event: etree._Element, out: _Collector) -> None:
    kind = _local(spec)
    source = (spec.text or "").strip()
    words = {"timeDuration": ("duration", "时长", '"PT4H"'), "timeDate": ("date and time", "日期时间",
                                                                          '"2030-01-31T09:00:00+08:00"'),
             "timeCycle": ("cycle", "周期", '"R3/PT1H"')}[kind]
    if not source:
        out.add("timer_empty", event)
    elif source.startswith(("${", "#{")):
        out.add("juel", event, source=source, example=words[2])
    elif ISO_DURATION.match(source) or ISO_DATE.match(source) or ISO_CYCLE.match(source):
        out.add("timer_unquoted", event, source=source)
    elif source[0] in "\"'" and source[-1] == source[0] and len(source) >= 2:
        literal = source[1:-1]
        pattern = {"timeDuration": ISO_DURATION, "timeDate": ISO_DATE, "timeCycle": ISO_CYCLE}[kind]
        if not pattern.match(literal):
            out.add("timer_unknown", event, source=source, kind=words[0], kind_zh=words[1], example=words[2])
    elif not IDENTIFIER.match(source) and not _looks_like_python(source):
        out.add("timer_unknown", event, source=source, kind=words[0], kind_zh=words[1], example=words[2])


def _looks_like_python(source: str) -> bool:
    try:
        compile(source, "<timer>", "eval")
    except (SyntaxError, ValueError):
        return False
    return True


def _structure(root: etree._Element, out: _Collector) -> None:
    """Start/end events, reachability, dead ends, dangling flows and gateway defaults, scope by scope
    (a process, then each subprocess inside it), iteratively."""
    work = deque((process, 0) for process in root.iterfind(f"{{{BPMN}}}process"))
    while work:
        scope, depth = work.popleft()
        if depth > MAX_NESTING:
            out.add("nesting_too_deep", scope, limit=MAX_NESTING)
            continue
        _scope(scope, out)
        for child in scope:
            if _ns(child) == BPMN and _local(child) in SCOPES:
                work.append((child, depth + 1))


def _scope(scope: etree._Element, out: _Collector) -> None:
    nodes = {c.get("id"): c for c in scope if _ns(c) == BPMN and _local(c) in FLOW_NODES and c.get("id")}
    flows = [c for c in scope if _ns(c) == BPMN and _local(c) == "sequenceFlow"]
    outgoing: dict[str, list[etree._Element]] = {}
    incoming: dict[str, list[etree._Element]] = {}
    what = f"Process {scope.get('id')}" if _local(scope) == "process" else f"Subprocess {_label(scope)}"
    for flow in flows:
        source, target = flow.get("sourceRef"), flow.get("targetRef")
        broken = False
        for end, end_zh, ref in (("starts at", "起点", source), ("ends at", "终点", target)):
            if ref not in nodes:
                out.add("dangling_flow", flow, flow=flow.get("id"), end=end, end_zh=end_zh, ref=ref or "nothing")
                broken = True
        if not broken:
            outgoing.setdefault(source, []).append(flow)
            incoming.setdefault(target, []).append(flow)
    event_sub = scope.get("triggeredByEvent", "false").lower() == "true"
    starts = [i for i, n in nodes.items() if _local(n) == "startEvent"]
    if not starts:
        out.add("no_start", scope, scope=what)
    if not any(_local(n) == "endEvent" for n in nodes.values()) and not event_sub:
        out.add("no_end", scope, scope=what)
    attached: dict[str, list[str]] = {}
    for i, node in nodes.items():
        if _local(node) == "boundaryEvent":
            attached.setdefault(node.get("attachedToRef"), []).append(i)
    # reachable from a start event (boundary events with the activity they sit on; event
    # subprocesses start by their trigger)
    seen = set(starts)
    queue = deque(starts)
    for i, node in nodes.items():
        if _local(node) in SCOPES and node.get("triggeredByEvent", "false").lower() == "true":
            seen.add(i)
            queue.append(i)
    while queue:
        current = queue.popleft()
        for follower in [f.get("targetRef") for f in outgoing.get(current, [])] + attached.get(current, []):
            if follower not in seen:
                seen.add(follower)
                queue.append(follower)
    for i, node in nodes.items():
        if i not in seen and starts:
            out.add("unreachable", node, name=_label(node))
    for i, node in nodes.items():
        tag = _local(node)
        if tag == "endEvent" or outgoing.get(i) or (tag in SCOPES and node.get("triggeredByEvent") == "true"):
            continue
        if tag == "boundaryEvent" and node.get("cancelActivity", "true").lower() == "false" \
                and node.find(f"{{{BPMN}}}timerEventDefinition") is not None and event_sub:
            continue
        out.add("dead_end", node, name=_label(node))
    for i, node in nodes.items():
        tag = _local(node)
        leaving = outgoing.get(i, [])
        if tag in ACTIVITIES and len(leaving) > 1:
            out.add("task_multiple_outgoing", node, count=len(leaving))
        if tag in ACTIVITIES or tag in EVENTS:
            for flow in leaving:
                if flow.find(f"{{{BPMN}}}conditionExpression") is not None:
                    out.add("conditional_flow_from_task", node, flow=flow.get("id"))
        if tag in ("exclusiveGateway", "inclusiveGateway"):
            _gateway(node, leaving, flows, out)
    _path_length(scope, starts, outgoing, what, nodes, out)


def _gateway(node: etree._Element, leaving: list[etree._Element], flows: list[etree._Element], out: _Collector) -> None:
    default = node.get("default")
    if default and default not in {f.get("id") for f in leaving}:
        out.add("default_not_outgoing", node, name=_label(node), flow=default)
        return
    if len(leaving) < 2:
        return
    conditioned = [f for f in leaving if (f.findtext(f"{{{BPMN}}}conditionExpression") or "").strip()]
    if not default and len(conditioned) == len(leaving):
        out.add("no_default", node, name=_label(node))
    for flow in leaving:
        if flow not in conditioned and flow.get("id") != default:
            out.add("flow_without_condition", flow, flow=flow.get("id"), name=_label(node))


def _path_length(scope: etree._Element, starts: list[str], outgoing: dict[str, list[etree._Element]], what: str,
                 nodes: dict[str, etree._Element], out: _Collector) -> None:
    """The depth a depth-first walk from the start reaches (the parser walks the same way)."""
    depth_of: dict[str, int] = {}
    stack = [(s, 1) for s in starts]
    while stack:
        current, depth = stack.pop()
        if current in depth_of:
            continue
        depth_of[current] = depth
        if depth > MAX_PATH_STEPS:
            out.add("path_too_long", nodes.get(current, scope), scope=what, limit=MAX_PATH_STEPS)
            return
        for flow in outgoing.get(current, []):
            if flow.get("targetRef") not in depth_of:
                stack.append((flow.get("targetRef"), depth + 1))


def cross_file(roots: Mapping[str, etree._Element]) -> list[Problem]:
    """What only the whole set can tell: called processes and decisions exist, something can run."""
    processes: set[str] = set()
    decisions: set[str] = set()
    executable = False
    for root in roots.values():
        if _ns(root) == BPMN:
            for process in root.iterfind(f"{{{BPMN}}}process"):
                processes.add(process.get("id"))
                executable = executable or process.get("isExecutable", "false").lower() == "true"
        elif _ns(root) in DMN_NAMESPACES:
            decisions.update(d.get("id") for d in root.iterfind(f"{{{_ns(root)}}}decision"))
    problems = []
    for name, root in roots.items():
        if _ns(root) != BPMN:
            continue
        out = _Collector(name)
        for call in root.iter(f"{{{BPMN}}}callActivity"):
            called = call.get("calledElement")
            if called not in processes:
                out.add("called_process_missing", call, name=_label(call), process=called or "-")
        for task in root.iter(f"{{{BPMN}}}businessRuleTask"):
            decision = next(task.iter(f"{{{SPIFF}}}calledDecisionId"), None)
            decision_id = (decision.text or "").strip() if decision is not None else ""
            if not decision_id:
                out.add("decision_not_named", task, name=_label(task))
            elif decision_id not in decisions:
                out.add("decision_missing", task, name=_label(task), decision=decision_id)
        problems += out.done()
    if roots and not executable and any(_ns(r) == BPMN for r in roots.values()):
        first = sorted(n for n, r in roots.items() if _ns(r) == BPMN)[0]
        problems.append(problem("no_executable_process", first, None, None))
    return problems


# --- DMN --------------------------------------------------------------------------------------

#: hit policies that behave as named in SpiffWorkflow 3.2 (others silently act as first-match)
HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")


def check_dmn(name: str, root: etree._Element, sandbox: Sandbox) -> list[Problem]:
    out = _Collector(name)
    ns = _ns(root)
    if ns not in DMN_NAMESPACES or _local(root) != "definitions":
        out.add("not_dmn", root, root=_local(root) or str(root.tag))
        return out.done()
    for decision in root.iterfind(f"{{{ns}}}decision"):
        table = decision.find(f"{{{ns}}}decisionTable")
        if table is None:
            out.add("dmn_no_table", decision, decision=decision.get("id"))
            continue
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        if policy not in HIT_POLICIES:
            out.add("dmn_hit_policy", table, policy=policy, policies=", ".join(HIT_POLICIES))
        inputs = table.findall(f"{{{ns}}}input")
        outputs = table.findall(f"{{{ns}}}output")
        columns = []
        for number, column in enumerate(inputs, 1):
            label = f"{number} '{column.get('label') or column.get('id')}'"
            columns.append(label)
            expression = column.find(f"{{{ns}}}inputExpression")
            text = (expression.findtext(f"{{{ns}}}text") if expression is not None else "") or ""
            if not text.strip():
                out.add("dmn_input_expression", column, column=label)
            else:
                _compile(sandbox, text, column, out, "dmn_input", column=label, cell=text)
        out_columns = [f"{n} '{o.get('label') or o.get('name') or o.get('id')}'" for n, o in enumerate(outputs, 1)]
        for number, rule in enumerate(table.iterfind(f"{{{ns}}}rule"), 1):
            entries = rule.findall(f"{{{ns}}}inputEntry")
            if len(entries) != len(inputs):
                out.add("dmn_cell_count", rule, rule=number, cells=len(entries), inputs=len(inputs))
                continue
            for label, entry in zip(columns, entries, strict=False):
                _cell(sandbox, (entry.findtext(f"{{{ns}}}text") or "").strip(), entry, number, label, out)
            for label, entry in zip(out_columns, rule.findall(f"{{{ns}}}outputEntry"), strict=False):
                text = (entry.findtext(f"{{{ns}}}text") or "").strip()
                if text:
                    _compile(sandbox, text, entry, out, "dmn_output", rule=number, column=label, cell=text)
    return out.done()


FEEL_RANGE = re.compile(r"^[\[\]\(]\s*([^.\s]+)\s*\.\.\s*([^\]\[\)\s]+)\s*[\]\[\)]$")


def _cell(sandbox: Sandbox, cell: str, entry: etree._Element, rule: int, column: str, out: _Collector) -> None:
    if not cell or cell == "-":
        return
    ranged = FEEL_RANGE.match(cell)
    if ranged:
        out.add("dmn_feel_range", entry, rule=rule, column=column, cell=cell, low=ranged[1], high=ranged[2])
        return
    if cell.startswith("not(") and cell.endswith(")"):
        out.add("dmn_feel_not", entry, rule=rule, column=column, cell=cell, value=cell[4:-1].strip())
        return
    if "," in cell and not cell.lstrip().startswith(("in ", "not in", "in(", "(")) and "(" not in cell:
        out.add("dmn_feel_list", entry, rule=rule, column=column, cell=cell,
                suggestion=", ".join(p.strip() for p in cell.split(",")))
        return
    errors: list[SandboxError] = []
    for candidate in (cell.replace("?", "v"), f"v {cell}"):
        try:
            sandbox.compile(candidate, "eval")
            return
        except SandboxError as exc:
            errors.append(exc)
    error = next((e for e in errors if not e.message.startswith("syntax error")), errors[0])
    out.add("dmn_cell", entry, rule=rule, column=column, cell=cell, reason=error.message)


def _compile(sandbox: Sandbox, source: str, node: etree._Element, out: _Collector, code: str, **params: Any) -> None:
    try:
        sandbox.compile(source, "eval")
    except SandboxError as exc:
        out.add(code, node, reason=exc.message, **params)


def check_files(files: Mapping[str, bytes], sandbox: Sandbox, operations: Iterable[str]) -> tuple[dict[str, etree._Element], list[Problem]]:
    """Every file read and checked: (name -> root of each readable file, problems)."""
    roots: dict[str, etree._Element] = {}
    problems: list[Problem] = []
    operations = list(operations)
    for name in sorted(files):
        root, found = read(name, files[name])
        problems += found
        if root is None:
            continue
        roots[name] = root
        if name.endswith(".dmn"):
            problems += check_dmn(name, root, sandbox)
        else:
            problems += check_bpmn(name, root, operations)
    if not any(p.code in ("not_bpmn", "not_dmn") for p in problems):
        problems += cross_file(roots)
    return roots, problems


# --- the BPMN 2.0 schema ----------------------------------------------------------------------

SCHEMA_WORDS = (
    ("is not expected", "it is not allowed at this place", "此处不允许出现它"),
    ("attribute", "one of its attributes is not allowed or has a wrong value", "它的某个属性不允许出现或取值错误"),
    ("missing child", "a required child element is missing", "缺少必需的子元素"),
    ("not a valid value", "a value is not valid", "某个取值无效"),
    ("duplicate", "an id is used twice", "某个 id 重复使用"),
    ("not unique", "an id is used twice", "某个 id 重复使用"),
)
_SCHEMA_TAG = re.compile(r"Element '(\{[^}]*\})?([^']+)'")


def schema_problems(name: str, root: etree._Element, validator: Any) -> list[Problem]:
    """Every place ``root`` breaks the BPMN 2.0 schema (not only the first), with its element."""
    if _ns(root) != BPMN:
        return []
    copy = deepcopy(root)  # keeps the source lines
    validator.preprocess(copy)
    if validator.validator.validate(copy):
        return []
    by_line: dict[int, etree._Element] = {}
    for node in root.iter():
        if isinstance(node.tag, str) and node.sourceline not in by_line:
            by_line[node.sourceline] = node
    out = _Collector(name)
    for error in validator.validator.error_log:
        message = error.message or ""
        tag_match = _SCHEMA_TAG.search(message)
        tag = tag_match[2] if tag_match else "?"
        lowered = message.lower()
        what, what_zh = next(((w, z) for needle, w, z in SCHEMA_WORDS if needle in lowered),
                             ("it does not match the standard", "它不符合标准"))
        node = by_line.get(error.line)
        while node is not None and not node.get("id"):  # a part of an element: name the element
            node = node.getparent()
        found = problem("schema", name, node.get("id") if node is not None else None, error.line, tag=tag,
                        what=what, what_zh=what_zh)
        out.problems.append(found)
    return out.problems[:MAX_PER_KIND]
