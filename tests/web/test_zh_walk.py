"""Wholly Chinese: every page every role reaches, in zh-CN, shows no English text of ours — no
step or process name from the diagrams, no form text, no sentence of the catalogue left in
English, no run of English words at all beyond the data the test typed and the names of things
(SLA, VIP, …)."""
from __future__ import annotations

import json
import re
from pathlib import Path

from babel.messages.pofile import read_po
from lxml import html as lxml_html

from cases.process.names import names_in
from tests.helpers import DATA, step

ROOT = Path(__file__).resolve().parents[2]
ROLES = ["agent1", "consultant1", "supervisor", "bizmanager", "techlead", "complaints", "owner", "admin",
         "acme_user"]
#: pages that are not HTML for a person, or that change something on GET
SKIP = ("web_static.", "web_auth.logout", "kpi.export", "case_pages.diagram", "case_pages.download",
        "owner.editor_file", "owner.version_file")
#: English that is a name, not a sentence: products, standards, the test's own data, our identifiers
ALLOWED = re.compile(r"\b(caseflow|SLA|VIP|KPIs?|CSV|API|BPMN|DMN|HQ|JSON|Acme Ltd|VIP Co|Other Inc|ACME|VIPCO|OTHER|"
                     r"Windows 10, SQL Server 2017|POST /api/v1/\S+|docs/\S+|[a-z_]+\.(bpmn|dmn|json)|"
                     r"English|Asia/Shanghai|UTC|nameZh|[\w.+-]+@[\w.-]+)\b")
ENGLISH_RUN = re.compile(r"[A-Za-z][a-z]+(?:[ ,:;'’-]+[A-Za-z][a-z]+){2,}")


def _english_sources() -> set[str]:
    """The English texts we own: the catalogue's ids, the diagrams' names, the forms' texts."""
    with (ROOT / "web/translations/zh/LC_MESSAGES/messages.po").open("rb") as po:
        texts = {m.id for m in read_po(po) if isinstance(m.id, str) and len(m.id) >= 12 and "%(" not in m.id}
    for bpmn in (ROOT / "processes").glob("*.bpmn"):
        texts |= {name.en for kind, name in names_in(bpmn.read_bytes()).values()
                  if name.zh and len(name.en) >= 5 and kind != "lane"}  # a lane's name is a role code
    for form in (ROOT / "forms").glob("*.schema.json"):
        for _key, value in re.findall(r'"(title|description)": ("(?:[^"\\]|\\.)*")', form.read_text(encoding="utf-8")):
            texts.add(json.loads(value))
    return {t for t in texts if re.search(r"[A-Za-z]{3}", t)}


def _visible_text(page: str) -> str:
    tree = lxml_html.fromstring(page)
    # what people typed stays in their words: a version's change note is the owner's own text
    for bad in tree.xpath("//script|//style|//*[@class='lang-switch']|//option[@lang]|//*[@lang='en']"
                          "|//*[contains(@class, 'change-note')]|//*[@id='change-note']"):
        bad.drop_tree()
    parts = list(tree.xpath("//body//text()"))
    parts += tree.xpath("//@aria-label|//@title|//@placeholder|//input[@type='submit']/@value")
    return "\n".join(" ".join(p.split()) for p in parts if p.strip())


def _scenario(api, pages, world) -> dict:
    """Cases at several steps, with Chinese data (customers type Chinese in this test)."""
    acme = world.customers["ACME"].id
    body = {"channel": "web", "title": "月末报表打开时报错", "description": "打开月末报表时提示错误。",
            "environment": "服务器 2019", "steps_to_reproduce": "打开报表", "customer_id": acme}
    cases = [api.post("/api/v1/cases", "agent1", json=body).json for _ in range(3)]
    step(api, cases[0]["id"], "classify")
    step(api, cases[0]["id"], "assign", DATA["assign"])
    step(api, cases[0]["id"], "resolve", {"analysis": "无法重现。", "outcome": "need_info", "question": "哪张报表？几点？"})
    step(api, cases[1]["id"], "classify")
    step(api, cases[1]["id"], "assign", DATA["assign"])
    step(api, cases[1]["id"], "resolve", {"analysis": "查询中的空引用。", "solution": "已修复查询。", "outcome": "resolved",
                                          "contact_made": True, "service_mode": "remote", "actions": "远程修复。",
                                          "time_spent_minutes": 30})
    customer = pages("acme_user")
    customer.get(f"/cases/{cases[2]['id']}")
    assert customer.post(f"/cases/{cases[2]['id']}/complaints", {"text": "一周没人回电话。"}).status_code == 303
    return {"cases": [c["id"] for c in cases]}


def _urls(app, client, scenario) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.startswith(SKIP) or rule.rule.startswith(("/api", "/s/")):
            continue
        if not rule.arguments:
            urls.append(rule.rule)
    urls += [f"/cases/{i}" for i in scenario["cases"]]
    for path in ("/inbox?scope=mine", "/inbox?scope=claimable", "/inbox?scope=open", "/cases", "/portal"):
        text = client.text(client.get(path))
        urls += sorted(set(re.findall(r'href="(/(?:tasks|cases|customers|owner/versions)/\d[^"#?]*)"', text)))
    return list(dict.fromkeys(urls))


def test_every_page_as_every_role_is_wholly_chinese(app, api, pages, world):
    scenario = _scenario(api, pages, world)
    sources = _english_sources()
    found: dict[str, set[str]] = {}
    visited = 0
    for role in ROLES:
        client = pages(role)
        client.post("/language", {"lang": "zh_CN"})
        for url in _urls(app, client, scenario):
            response = client.get(url)
            if response.mimetype != "text/html" or response.status_code in (301, 302, 303):
                continue
            visited += 1
            text = _visible_text(client.text(response))
            assert 'lang="zh-CN"' in client.text(response)
            for source in sources:
                if source in text:
                    found.setdefault(f"{role} {url}", set()).add(source)
            for run in ENGLISH_RUN.findall(ALLOWED.sub(" ", text)):
                found.setdefault(f"{role} {url}", set()).add(run)
    assert visited > 60
    assert found == {}, "\n".join(f"{k}: {sorted(v)}" for k, v in sorted(found.items()))
