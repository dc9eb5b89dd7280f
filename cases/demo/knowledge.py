"""The demo's knowledge base: published articles in Chinese and English (one draft), and the canned
answers supervisors keep, so the knowledge-base pages and the reply's insert buttons show real text."""
from __future__ import annotations

from cases.core.models import User
from cases.knowledge import articles, canned

#: (language, category, title, tags, body, status)
ARTICLES = [
    ("zh", "operation_problem", "如何重置登录密码", ["密码", "登录"],
     "1. 在登录页点击“忘记密码”。\n2. 输入注册邮箱，系统会发送重置链接。\n3. 打开邮件中的链接，设置新密码（至少 8 位）。\n"
     "链接 30 分钟内有效；收不到邮件请检查垃圾邮件箱，或联系贵公司的系统管理员。", "published"),
    ("zh", "data_problem", "月末报表提示“对象引用未设置”", ["报表", "月末"],
     "多数情况下是报表模板引用了已删除的科目。\n1. 在“系统设置 > 报表模板”中打开出错的报表。\n"
     "2. 点击“检查引用”，删除标红的科目。\n3. 保存后重新打开报表。\n仍然报错时请提交服务单，并附上报错截图。", "published"),
    ("en", "operation_problem", "Exporting the customer list to Excel", ["export", "excel"],
     "Open Reports > Customers, choose Export, then Excel (.xlsx). Large lists are exported in the "
     "background: you get a message with the file when it is ready.", "published"),
    ("en", "environment_problem", "The printer shows as offline", ["printer"],
     "Check that the printer is on and connected. In Windows, open Devices and Printers, right-click the "
     "printer and clear \"Use Printer Offline\". Then print a test page.", "published"),
    ("zh", "configuration_problem", "发票编号规则设置（草稿）", ["发票"],
     "在“财务 > 发票 > 编号规则”中设置前缀、年份和流水号位数。", "draft"),
]
#: (name, Chinese text, English text)
CANNED = [
    ("已收到，正在处理 / On it",
     "您好，我们已收到您的问题，工程师正在处理，预计今天内给您答复。",
     "Hello, we have your report and an engineer is working on it; you will hear from us today."),
    ("请提供截图 / Screenshot please",
     "为了尽快定位问题，请提供报错时的完整截图和操作步骤。",
     "To find the cause quickly, please send a screenshot of the whole error and the steps you took."),
    ("问题已解决 / Solved",
     "问题已经解决，请您确认。如仍有问题，请直接回复本消息。",
     "The problem is solved; please confirm. If anything is still wrong, just reply to this message."),
]


def load(users: dict[str, User]) -> None:
    for language, category, title, tags, body, status in ARTICLES:
        articles.create(users["agent1"], {"kind": "article", "language": language, "category": category,
                                          "title": title, "tags": tags, "body": body, "status": status})
    for name, text_zh, text_en in CANNED:
        canned.create(users["supervisor"], {"name": name, "text_zh": text_zh, "text_en": text_en})
