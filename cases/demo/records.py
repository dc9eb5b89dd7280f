"""The demo customers' records: address, contacts, installed products and contracts (dates relative
to today), so the customer page, the case page's panel and update notices by product show real data."""
from __future__ import annotations

from datetime import timedelta

from cases.core.models import Customer, User
from cases.customers import records as customer_records

ADDRESSES = {
    "HUAXIN": "上海市徐汇区漕溪北路 88 号华信大厦 12 楼",
    "YUANHANG": "天津市滨海新区港城大道 2 号远航物流园",
    "BETA": "Unit 5, 18 Nanjing West Road, Jing'an, Shanghai",
}
CONTACTS = {
    "HUAXIN": [("张伟", "IT 管理员", "021-6480 1234", "zhang.wei@huaxin.example", True),
               ("刘芳", "财务经理", "021-6480 1250", "liu.fang@huaxin.example", False)],
    "YUANHANG": [("陈静", "信息中心主任", "022-2560 8800", "chen.jing@yuanhang.example", True),
                 ("马超", "仓储主管", "138 0022 5566", None, False)],
    "BETA": [("Emily Zhou", "IT administrator", "021-5201 7788", "emily.zhou@beta.example", True)],
}
#: (product, version, environment, installed days ago)
PRODUCTS = {
    "HUAXIN": [("财务软件", "7.2.1", "Windows Server 2019，SQL Server 2017，20 个并发用户", 400),
               ("进销存", "3.1", "同一服务器；与财务软件共用账套", 400)],
    "YUANHANG": [("财务软件", "7.10.0", "两台应用服务器（负载均衡），PostgreSQL 14", 700),
                 ("物流管理系统", "4.2", "Linux（CentOS 7），48 个仓库终端", 250)],
    "BETA": [("零售 POS", "2.8", "120 stores, Windows 10 tills, nightly sync", 20),
             ("财务软件", "6.5", "Windows Server 2012 R2, SQL Server 2014 (end of support soon)", 1500)],
}
#: (number, tier, started days ago, length in days, calendar); HUAXIN's first contract has expired
CONTRACTS = {
    "HUAXIN": [("HT-2024-0031", "standard", 730, 365, "default"), ("HT-2025-0107", "standard", 365, 730, "default")],
    "YUANHANG": [("HT-2025-0042", "vip", 200, 1095, "24x7")],
    "BETA": [("HT-2026-0210", "standard", 20, 365, "default")],
}


def load(admin: User, customers: dict[str, Customer]) -> None:
    """In the caller's transaction, through the same use cases as the API."""
    today = customer_records.today()
    for code, customer in customers.items():
        customer.address = ADDRESSES[code]
        for name, role, phone, email, primary in CONTACTS[code]:
            customer_records.add_item(admin, customer.id, "contact", {
                "name": name, "role": role, "phone": phone, "email": email, "is_primary": primary})
        for product, version, environment, days in PRODUCTS[code]:
            customer_records.add_item(admin, customer.id, "product", {
                "product": product, "product_version": version, "environment": environment,
                "installed_on": today - timedelta(days=days)})
        for number, tier, days, length, calendar in CONTRACTS[code]:
            start = today - timedelta(days=days)
            customer_records.add_item(admin, customer.id, "contract", {
                "number": number, "tier": tier, "start": start, "end": start + timedelta(days=length - 1),
                "calendar": calendar})
