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
    "查看服务单：{link}\n"
)
_CASE_LINES_EN = (
    "Customer: {customer}   Priority: {priority}   Owner: {owner}\n"
    "Open the case: {link}\n"
)

#: kind -> (subject, body)
TEMPLATES: dict[str, tuple[str, str]] = {
    "sla_warning": (
        "[{case_number}] SLA 预警：{target_zh}即将到期 / SLA warning: {target_en} due soon",
        "服务单 {case_number}「{title}」的{target_zh}即将到期。\n"
        "到期时间：{due_local}\n" + _CASE_LINES +
        "\n"
        "Case {case_number} \"{title}\": the {target_en} deadline is approaching.\n"
        "Due: {due_local}\n" + _CASE_LINES_EN + _FOOTER,
    ),
    "sla_breach": (
        "[{case_number}] SLA 超时：{target_zh}已超时 / SLA breached: {target_en} overdue",
        "服务单 {case_number}「{title}」的{target_zh}已超过期限，请主管跟进。\n"
        "到期时间：{due_local}\n" + _CASE_LINES +
        "\n"
        "Case {case_number} \"{title}\": the {target_en} deadline has passed; a supervisor should act.\n"
        "Was due: {due_local}\n" + _CASE_LINES_EN + _FOOTER,
    ),
    "sla_manager": (
        "[{case_number}] SLA 升级：{target_zh}超时未处理 / SLA escalation: {target_en} still overdue",
        "服务单 {case_number}「{title}」的{target_zh}超时后仍未处理，现升级至经理。\n"
        "到期时间：{due_local}\n" + _CASE_LINES +
        "\n"
        "Case {case_number} \"{title}\": the {target_en} is still overdue after the breach and is "
        "escalated to management.\n"
        "Was due: {due_local}\n" + _CASE_LINES_EN + _FOOTER,
    ),
}

TEMPLATES["case_acknowledged"] = (
    "[{case_number}] 已受理：{title} / Received: {title}",
    "您好！我们已收到您的问题，服务单号 {case_number}「{title}」。\n"
    "回复此邮件即可补充信息（请保留主题中的服务单号）。\n"
    "查看服务单：{link}\n"
    "\n"
    "Hello, we have received your request: case {case_number} \"{title}\".\n"
    "Reply to this e-mail to add information (keep the case number in the subject).\n"
    "Open the case: {link}\n" + _FOOTER,
)

# -- replies to customers on their case (cases/outbox/replies.py) -------------------------------------
# Each also has a short chat text (CHAT_TEXTS) for cases that came in through a chat platform.

TEMPLATES["information_request"] = (
    "[{case_number}] 需要您补充信息：{title} / More information needed: {title}",
    "您好！为处理服务单 {case_number}「{title}」，我们需要您补充以下信息：\n"
    "\n{request}\n\n"
    "请直接回复此邮件（请保留主题中的服务单号），您的回复会送达处理人员，服务单随即继续处理。\n"
    "查看服务单：{link}\n"
    "\n"
    "Hello, to work on case {case_number} \"{title}\" we need the following from you:\n"
    "\n{request}\n\n"
    "Reply to this e-mail (keep the case number in the subject): your answer reaches the person "
    "handling the case and the work continues.\n"
    "Open the case: {link}\n" + _FOOTER,
)

TEMPLATES["resolution"] = (
    "[{case_number}] 已处理，请确认：{title} / Resolved, please confirm: {title}",
    "您好！服务单 {case_number}「{title}」已处理：\n"
    "\n{solution}\n\n"
    "请回复此邮件确认：第一行写「已解决」表示问题已解决；写「未解决」并在下面说明原因，我们会继续处理。"
    "若 {confirm_days} 天内没有答复，服务单将视为已解决。\n"
    "查看服务单：{link}\n"
    "\n"
    "Hello, case {case_number} \"{title}\" has been resolved:\n"
    "\n{solution}\n\n"
    "Please confirm by replying to this e-mail: write \"solved\" on the first line if the problem is "
    "solved, or \"not solved\" followed by what is still wrong, and we will continue. Without an "
    "answer within {confirm_days} days the case counts as solved.\n"
    "Open the case: {link}\n" + _FOOTER,
)

TEMPLATES["staff_reply"] = (
    "[{case_number}] 回复：{title} / Reply: {title}",
    "{author} 就服务单 {case_number}「{title}」回复您 / {author} replied on case {case_number} \"{title}\":\n"
    "\n{text}\n\n"
    "回复此邮件即可继续沟通（请保留主题中的服务单号）。 / Reply to this e-mail to answer "
    "(keep the case number in the subject).\n"
    "查看服务单 / Open the case: {link}\n" + _FOOTER,
)

TEMPLATES["update_announcement"] = (
    "软件更新通知：{product} {version} / Software update: {product} {version}",
    "尊敬的 {customer}：\n"
    "我们将于 {window_local} 为您更新 {product} 至 {version} 版本。\n"
    "\n{notes_zh}\n\n"
    "更新期间系统可能暂时无法使用，请提前做好安排。如有疑问请回复此邮件。\n"
    "\n"
    "Dear {customer},\n"
    "{product} will be updated to version {version} during {window_local}.\n"
    "\n{notes_en}\n\n"
    "The system may be unavailable during the update; please plan ahead. Reply to this e-mail with "
    "any questions.\n" + _FOOTER,
)

TEMPLATES["major_incident_update"] = (
    "[{case_number}] 重大事件通报 {incident}：{incident_title} / Major incident {incident}: {incident_title}",
    "您好！影响您服务单 {case_number}「{title}」的重大事件 {incident}「{incident_title}」有新进展：\n"
    "\n{text}\n\n"
    "查看服务单：{link}\n"
    "\n"
    "Hello, there is news on major incident {incident} \"{incident_title}\", which affects your case "
    "{case_number} \"{title}\":\n"
    "\n{text}\n\n"
    "Open the case: {link}\n" + _FOOTER,
)

#: kind -> the text posted to a chat conversation (same values as the mail)
CHAT_TEXTS: dict[str, str] = {
    "information_request": "【{case_number}】为继续处理，请补充：{request}\n"
                           "[{case_number}] To continue we need: {request}",
    "resolution": "【{case_number}】已处理：{solution}\n请回复「已解决」确认，或回复「未解决」并说明原因。\n"
                  "[{case_number}] Resolved: {solution}\nReply \"solved\" to confirm, or \"not solved\" "
                  "and what is still wrong.",
    "staff_reply": "【{case_number}】{author}：{text}\n[{case_number}] {author}: {text}",
    "major_incident_update": "【{case_number}】重大事件 {incident}「{incident_title}」：{text}\n"
                             "[{case_number}] Major incident {incident} \"{incident_title}\": {text}",
    "update_announcement": "软件更新通知：{product} {version}，时间 {window_local}。{notes_zh}\n"
                           "Software update: {product} {version} during {window_local}. {notes_en}",
}


def render_chat(kind: str, values: dict[str, Any]) -> str:
    """The chat text of a ``kind`` of customer notice."""
    try:
        return CHAT_TEXTS[kind].format_map(values)
    except KeyError as exc:
        raise ValueError(f"no chat text for {kind!r} or a missing value: {exc}") from None


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


# -- satisfaction surveys (cases/casework/surveys.py): a link that needs no log-in ---------------------------
TEMPLATES["survey_invitation"] = (
    "[{case_number}] 请评价我们的服务 / How did we do? {what_en}",
    "您好！感谢您使用我们的服务。请花一分钟评价{what_zh}（服务单 {case_number}「{title}」）：\n"
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
    "您好！关于您的投诉（服务单 {case_number}「{title}」），我们的答复如下：\n\n{response}\n\n"
    "查看服务单：{link}\n"
    "\n"
    "Hello, this is our response to your complaint (case {case_number} \"{title}\"):\n\n{response}\n\n"
    "Open the case: {link}\n" + _FOOTER,
)
