"""Never lose or double work on the forms that open a case: a one-time form token makes a double
click or Back-and-Send-again open one case; a far too long text or a too large file brings the form
back with everything typed and the limit named; the limits are shown before sending."""
from __future__ import annotations

import io
import re
import threading

from sqlalchemy import func, select

from cases.core.db import db
from cases.core.models import Case

TOKEN = re.compile(r'name="form_token" value="([0-9a-f]{32})"')


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    """A multipart body built in memory (werkzeug's test encoder spools a large one to a temporary
    file it never closes)."""
    boundary = "caseflow-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
             for k, v in fields.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def _count(title: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Case).where(Case.title == title))


def test_sending_the_same_form_again_opens_one_case(pages, app_ctx):
    customer = pages("acme_user")
    token = TOKEN.search(customer.text(customer.get("/portal/cases/new"))).group(1)
    form = {"title": "Printing fails twice", "description": "Nothing comes out.", "form_token": token}
    first = customer.post("/portal/cases/new", dict(form), content_type="multipart/form-data")
    again = customer.post("/portal/cases/new", dict(form), content_type="multipart/form-data")  # Back, Send
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert _count("Printing fails twice") == 1
    text = customer.text(customer.get(again.headers["Location"]))
    assert "This form was sent already" in text
    fresh = TOKEN.search(customer.text(customer.get("/portal/cases/new"))).group(1)
    assert fresh != token  # a new form is a new case


def test_a_double_click_racing_opens_one_case(app, pages, app_ctx):
    customer = pages("acme_user")
    token = TOKEN.search(customer.text(customer.get("/portal/cases/new"))).group(1)
    form = {"title": "Double click", "description": "Clicked twice.", "form_token": token,
            "csrf_token": customer.csrf}
    cookie = customer.client.get_cookie("caseflow_session")
    answers = []

    def send():
        client = app.test_client()
        client.set_cookie(cookie.key, cookie.value)
        answers.append(client.post("/portal/cases/new", data=dict(form), content_type="multipart/form-data"))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [a.status_code for a in answers] == [303, 303, 303]
    assert len({a.headers["Location"] for a in answers}) == 1
    db.session.rollback()
    assert _count("Double click") == 1


def test_a_far_too_long_text_comes_back_with_everything_typed(pages, app_ctx):
    customer = pages("acme_user")
    text = customer.text(customer.get("/portal/cases/new"))
    assert "At most 20000 characters." in text and "At most 200 characters." in text  # before sending
    long_text = "报表打不开。" * 200_000  # 3.6 MB of UTF-8: more than the form's default memory limit
    body, boundary = _multipart({"title": "Kept", "description": long_text, "contact_name": "李雷",
                                 "csrf_token": customer.csrf})
    r = customer.client.post("/portal/cases/new", data=body,
                             content_type=f"multipart/form-data; boundary={boundary}")
    assert r.status_code == 422
    page = customer.text(r)
    assert "at most 20000 characters (now 1200000)" in page
    assert long_text in page and 'value="Kept"' in page and 'value="李雷"' in page
    assert _count("Kept") == 0


def test_a_too_large_file_comes_back_with_the_text_and_the_limit(app, pages, app_ctx):
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        customer = pages("acme_user")
        customer.get("/portal/cases/new")
        r = customer.post("/portal/cases/new", {"title": "With a big file", "description": "See the log.",
                                                "files": [(io.BytesIO(b"x" * 3000), "big.log")]},
                          content_type="multipart/form-data")
    finally:
        app.config.pop("ATTACHMENT_MAX_BYTES")
    assert r.status_code == 422
    page = customer.text(r)
    assert "A file is too large" in page and 'value="With a big file"' in page and "See the log." in page
    assert _count("With a big file") == 0


def test_the_same_text_under_a_new_token_asks_before_opening_a_second_case(pages, app_ctx):
    """Without the page's script a browser's Back fetches the form anew (a new token): the same subject
    and text sent again by the same user is not opened twice unless they send it once more."""
    customer = pages("acme_user")
    form = {"title": "Sent twice, new token", "description": "Same words."}
    for _ in range(2):
        form["form_token"] = TOKEN.search(customer.text(customer.get("/portal/cases/new"))).group(1)
        r = customer.post("/portal/cases/new", dict(form), content_type="multipart/form-data")
    assert r.status_code == 422
    page = customer.text(r)
    assert "with this same subject and text 0 minutes ago" in page and 'name="again" value="1"' in page
    assert 'value="Sent twice, new token"' in page and "Same words." in page
    assert _count("Sent twice, new token") == 1
    r = customer.post("/portal/cases/new", {**form, "again": "1"}, content_type="multipart/form-data")
    assert r.status_code == 303 and _count("Sent twice, new token") == 2


def test_a_file_far_over_twice_the_limit_comes_back_with_the_text(app, pages, app_ctx):
    """Beyond twice the whole form's limit, too: the files are counted, not kept, and the form returns."""
    app.config["ATTACHMENT_MAX_BYTES"] = 1024
    try:
        customer = pages("acme_user")
        customer.get("/portal/cases/new")
        r = customer.post("/portal/cases/new", {"title": "Huge file", "description": "Big log attached.",
                                                "files": [(io.BytesIO(b"x" * 200_000), "huge.log")]},
                          content_type="multipart/form-data")
    finally:
        app.config.pop("ATTACHMENT_MAX_BYTES")
    assert r.status_code == 422
    page = customer.text(r)
    assert "A file is too large" in page and 'value="Huge file"' in page and "Big log attached." in page
    assert _count("Huge file") == 0


def test_a_long_reply_or_complaint_comes_back_typed_with_the_limit(api, pages, acme_case, app_ctx):
    case = acme_case()
    agent = pages("agent1")
    agent.get(f"/cases/{case['id']}")
    long_text = "请稍候。" * 300_000  # 1.2 million characters, 3.6 MB of UTF-8: over the app's 1 MB body limit
    for path, box in (("replies", "reply"), ("complaints", "complaint")):
        body, boundary = _multipart({"text": long_text, "csrf_token": agent.csrf})
        r = agent.client.post(f"/cases/{case['id']}/{path}", data=body,
                              content_type=f"multipart/form-data; boundary={boundary}")
        assert r.status_code == 422, path
        page = agent.text(r)
        assert f'id="{box}-error"' in page and "at most 20000 characters (now 1200000)" in page
        assert long_text in page
    page = agent.text(agent.get(f"/cases/{case['id']}"))
    assert "At most 20000 characters." in page  # said before sending


def test_another_problem_typed_into_a_sent_form_opens_its_own_case_once(pages, app_ctx):
    """Back after Send keeps the form's token; a different problem typed in then is a report of its own."""
    customer = pages("acme_user")
    token = TOKEN.search(customer.text(customer.get("/portal/cases/new"))).group(1)
    first = {"title": "First problem", "description": "One.", "form_token": token}
    other = {"title": "Second problem", "description": "Two.", "form_token": token}
    for form in (first, first, other, other):
        r = customer.post("/portal/cases/new", dict(form), content_type="multipart/form-data")
        assert r.status_code == 303
    assert _count("First problem") == 1 and _count("Second problem") == 1
