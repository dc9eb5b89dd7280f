"""The texts of outbound mail, in one place: plain text, Chinese (zh-CN) first, then English.

Each kind has a subject and a body written with ``str.format`` fields; ``render`` fills them
from a dict of values (values are inserted as they are, never interpreted as templates).
Customer mail (acknowledgement, request for information, resolution, survey link) is added
here as more kinds.
"""
from __future__ import annotations

from typing import Any

_FOOTER = "\n--\ncaseflow（此邮件由系统自动发送 / sent automatically）\n"

_CASE_LINES = (
    "客户：{customer}　优先级：{priority}　负责人：{owner}\n"
    "查看工单：{link}\n"
)
_CASE_LINES_EN = (
    "Customer: {customer}   Priority: {priority}   Owner: {owner}\n"
    "Open the case: {link}\n"
)

#: kind -> (subject, body)
TEMPLATES: dict[str, tuple[str, str]] = {
    "sla_warning": (
        "[{case_number}] SLA 预警：{target_zh}即将到期 / SLA warning: {target_en} due soon",
        "工单 {case_number}「{title}」的{target_zh}即将到期。\n"
        "到期时间：{due_local}\n" + _CASE_LINES +
        "\n"
        "Case {case_number} \"{title}\": the {target_en} deadline is approaching.\n"
        "Due: {due_local}\n" + _CASE_LINES_EN + _FOOTER,
    ),
    "sla_breach": (
        "[{case_number}] SLA 超时：{target_zh}已超时 / SLA breached: {target_en} overdue",
        "工单 {case_number}「{title}」的{target_zh}已超过期限，请主管跟进。\n"
        "到期时间：{due_local}\n" + _CASE_LINES +
        "\n"
        "Case {case_number} \"{title}\": the {target_en} deadline has passed; a supervisor should act.\n"
        "Was due: {due_local}\n" + _CASE_LINES_EN + _FOOTER,
    ),
    "sla_manager": (
        "[{case_number}] SLA 升级：{target_zh}超时未处理 / SLA escalation: {target_en} still overdue",
        "工单 {case_number}「{title}」的{target_zh}超时后仍未处理，现升级至经理。\n"
        "到期时间：{due_local}\n" + _CASE_LINES +
        "\n"
        "Case {case_number} \"{title}\": the {target_en} is still overdue after the breach and is "
        "escalated to management.\n"
        "Was due: {due_local}\n" + _CASE_LINES_EN + _FOOTER,
    ),
}

TEMPLATES["case_acknowledged"] = (
    "[{case_number}] 已受理：{title} / Received: {title}",
    "您好！我们已收到您的问题，工单号 {case_number}「{title}」。\n"
    "回复此邮件即可补充信息（请保留主题中的工单号）。\n"
    "查看工单：{link}\n"
    "\n"
    "Hello, we have received your request: case {case_number} \"{title}\".\n"
    "Reply to this e-mail to add information (keep the case number in the subject).\n"
    "Open the case: {link}\n" + _FOOTER,
)

#: SLA target kinds as the texts name them: kind -> (zh, en)
TARGET_NAMES: dict[str, tuple[str, str]] = {
    "first_response": ("首次响应", "first response"),
    "next_update": ("下次更新", "next update"),
    "resolution": ("解决时限", "resolution"),
}


def render(kind: str, values: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of a ``kind`` of mail; ``values`` must name every field it uses."""
    try:
        subject, body = TEMPLATES[kind]
    except KeyError:
        raise ValueError(f"no mail template for {kind!r}") from None
    return subject.format_map(values), body.format_map(values)


# -- satisfaction surveys (cases/surveys.py): a link that needs no log-in ---------------------------
TEMPLATES["survey_invitation"] = (
    "[{case_number}] 请评价我们的服务 / How did we do? {what_en}",
    "您好！感谢您使用我们的服务。请花一分钟评价{what_zh}（工单 {case_number}「{title}」）：\n"
    "{link}\n"
    "链接无需登录，仅可使用一次，有效期至 {expires}。\n"
    "\n"
    "Hello, thank you for working with us. Please take a minute to rate {what_en_lower} "
    "(case {case_number} \"{title}\"):\n"
    "{link}\n"
    "The link needs no log-in, works once and is valid until {expires}.\n" + _FOOTER,
)

#: what a survey asks about: kind -> (zh, en)
_SURVEY_SUBJECTS: dict[str, tuple[str, str]] = {
    "callback": ("本次服务", "Our service on your case"),
    "complaint": ("投诉处理结果", "The outcome of your complaint"),
    "follow_up": ("系统上线 {months} 个月后的使用情况", "The system {months} months after going live"),
}


def render_survey_invitation(kind: str, milestone: int | None, **values: Any) -> tuple[str, str]:
    """The survey invitation for a ``kind`` of survey (a follow-up names its ``milestone`` month)."""
    what_zh, what_en = (text.format(months=milestone) for text in _SURVEY_SUBJECTS[kind])
    return render("survey_invitation", {**values, "what_zh": what_zh, "what_en": what_en,
                                        "what_en_lower": what_en[0].lower() + what_en[1:]})

TEMPLATES["complaint_response"] = (
    "[{case_number}] 投诉处理答复 / Our response to your complaint",
    "您好！关于您的投诉（工单 {case_number}「{title}」），我们的答复如下：\n\n{response}\n\n"
    "查看工单：{link}\n"
    "\n"
    "Hello, this is our response to your complaint (case {case_number} \"{title}\"):\n\n{response}\n\n"
    "Open the case: {link}\n" + _FOOTER,
)
