"""Demo data: customers, a user for every role, and cases at different steps of the process.

The cases are driven through the same use cases the API calls, so they are real instances.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cases.casework import follow_ups, intake, queries
from cases.casework import tasks as work
from cases.core import accounts
from cases.core.db import db, use_case
from cases.core.models import Customer, Task, TaskState, User, utcnow
from cases.demo import history as demo_history
from cases.demo import knowledge as demo_knowledge
from cases.demo import major_incidents as demo_major_incidents
from cases.demo import oversight as demo_oversight
from cases.demo import records as demo_records
from cases.demo import service_work as demo_service
from cases.process import assignment

CUSTOMERS = [
    ("HUAXIN", "华信软件有限公司", "standard"),
    ("YUANHANG", "远航物流集团", "vip"),
    ("BETA", "Beta Retail Ltd", "standard"),
]
USERS = [
    ("agent1", "王丽 (agent)", ["agent"], None),
    ("agent2", "Tom Baker (agent)", ["agent"], None),
    ("consultant1", "李强 (service consultant)", ["service_consultant"], None),
    ("consultant2", "Anna Schmidt (service consultant)", ["service_consultant"], None),
    ("bizmanager", "赵敏 (business manager)", ["business_manager"], None),
    ("techlead", "陈工 (technical lead)", ["technical_lead"], None),
    ("supervisor", "周主管 (supervisor)", ["supervisor"], None),
    ("manager", "吴经理 (customer service manager)", ["manager"], None),
    ("complaints", "孙洁 (complaint officer)", ["complaint_officer"], None),
    ("owner", "Process Owner", ["process_owner"], None),
    ("admin", "Administrator", ["admin"], None),
    ("huaxin", "华信 IT 管理员 (customer)", ["customer"], "HUAXIN"),
    ("yuanhang", "远航 IT (VIP customer)", ["customer"], "YUANHANG"),
    ("beta", "Beta Retail IT (customer)", ["customer"], "BETA"),
]
CASES = [
    # (opened by, customer, channel, title, description, steps to take)
    ("huaxin", "HUAXIN", "web", "月末报表打开时报错", "打开月末销售报表时提示“对象引用未设置”错误。", 0),
    ("agent1", "YUANHANG", "vip", "Warehouse module crash after update",
     "Since last night the warehouse module shows an exception when posting a receipt.", 1),
    ("agent2", "BETA", "phone", "How do I export the customer list?",
     "A new employee does not know how to export the customer list to Excel.", 2),
    ("beta", "BETA", "email", "Stock report totals mismatch",
     "The stock report and the inventory ledger show different totals for March.", 3),
    ("agent1", "HUAXIN", "chat", "发货单数量与订单不一致", "打印出的发货单数量与销售订单不符。", 4),
    ("agent2", "BETA", "phone", "保存凭证时报错", "保存凭证时提示错误 0x80004005。", 1),  # waits for HQ's fixed version
    ("huaxin", "HUAXIN", "web", "打印机坏了", "发货室的打印机无法开机。", 1),  # a repair order
    ("agent1", "HUAXIN", "phone", "Need a new report for sales by region",
     "Sales managers want a monthly report by region.", 3),  # evaluated, waits for the customer's answer
    ("yuanhang", "YUANHANG", "vip", "Invoice numbering configuration",
     "Please help us change the invoice number format in the configuration.", 6),
    ("huaxin", "HUAXIN", "web", "投诉：工程师两次未按约上门", "约好的上门服务两次无人到场，也没有提前通知。", 1),  # a complaint
]
#: customers live since (days ago): their follow-ups at 1, 3, 6 and 12 months run (cases/casework/follow_ups.py)
DEPLOYMENTS = {"HUAXIN": 100, "BETA": 20}


def _someone_for(task: Task) -> User:
    if task.lane == "customer":
        return db.session.scalar(select(User).where(User.customer_id == task.case.customer_id))
    return db.session.scalar(select(User).where(User.username == {"agent": "agent1", "supervisor": "supervisor",
                                                 "business_manager": "bizmanager", "technical_lead": "techlead"}
                                                .get(task.lane, "consultant1")))


@use_case
def load(password: str, hash_method: str = "scrypt") -> list[tuple[str, list[str]]] | None:
    if db.session.scalar(select(Customer.id).limit(1)) is not None:
        return None
    for code, name, tier in CUSTOMERS:
        db.session.add(Customer(code=code, name=name, tier=tier))
    db.session.flush()
    for username, name, roles, customer in USERS:
        accounts.create_user(username, password, roles, name, f"{username}@example.com", customer,
                             hash_method=hash_method)
    customers = {c.code: c for c in db.session.scalars(select(Customer))}
    users = {u.username: u for u in db.session.scalars(select(User))}
    # the VIP channel: YUANHANG's service orders go straight to their dedicated consultant
    assignment.set_dedicated_consultant(customers["YUANHANG"].id, users["consultant2"])
    demo_records.load(users["admin"], customers)  # contacts, installed products, contracts
    demo_history.load(users, customers)  # eight weeks of cases behind the KPIs
    demo_knowledge.load(users)  # knowledge-base articles and canned answers
    steps = {
        "classify": None, "assign": None,
        "resolve": {"analysis": "Reproduced on a copy of the customer's data.",
                    "solution": "Applied the configuration fix and verified it.", "outcome": "resolved",
                    "contact_made": True, "service_mode": "remote", "time_spent_minutes": 45,
                    "actions": "Connected remotely, corrected the setting, checked with the user."},
        "retrain_user": {"training_content": "Exporting the customer list to Excel", "trainees": "the new sales assistant",
                         "duration_minutes": 20, "training_mode": "remote"},
        "answer_consultation": {"answer": "Reports > Export, then choose Excel.", "answer_channel": "phone"},
        "contact_requester": {"contacted_at": "2030-01-02T10:00:00+08:00", "contact_channel": "phone",
                              "requirement_summary": "A monthly sales report by region"},
        "assess_requirement": {"already_supported": False, "workaround_possible": False,
                               "customer_agrees_secondary_development": True, "feasible": True,
                               "meets_customer_date": True, "person_days": 8, "expected_acceptance": "likely"},
        "confirm": {"confirmed": True, "confirmation_comment": "Works now, thank you."},
        "callback": {"reached": True, "callback_channel": "phone", "satisfaction": 5,
                     "feedback": "Quick and friendly."},
    }
    for opener, code, channel, title, description, how_far in CASES:
        fields = {"customer_id": customers[code].id, "channel": channel, "title": title,
                  "description": description, "environment": "Windows Server 2019, SQL Server 2017"}
        case = intake.open_case(users[opener], fields)
        for _ in range(how_far):
            task = db.session.scalar(select(Task).where(Task.case_id == case.id,
                                                        Task.state == TaskState.OPEN.value))
            if task is None:
                break
            actor = task.assignee or _someone_for(task)
            data = steps.get(task.element_id)
            if task.element_id == "classify":
                proposal = queries.task_view(actor, task.id).values
                data = {"category": proposal["category"], "priority": proposal["priority"]}
                if "投诉" in title:  # runs the complaint process as a linked case
                    data["category"] = "complaint"
            elif task.element_id == "assign":
                data = {"owner": "consultant1", "due_at": "2030-01-31T09:00:00+00:00"}
            if how_far == 4 and task.element_id == "resolve":
                data = {"analysis": "Need the printer model and driver version.", "outcome": "need_info",
                        "question": "请提供打印机型号和驱动版本。"}
            work.complete(actor, task.id, task.version, data)
    demo_oversight.load(users, customers)  # training, risks and quality audits (cases/service/)
    demo_service.load(users, customers)  # the service catalogue, a repair booked, maintenance schedules
    for code, days in DEPLOYMENTS.items():
        follow_ups.set_deployment(users["admin"], customers[code].id, utcnow().date() - timedelta(days=days))
    demo_major_incidents.load(users, customers)  # a major incident and a known problem (cases/service/)
    return [(username, roles) for username, _name, roles, _c in USERS]

