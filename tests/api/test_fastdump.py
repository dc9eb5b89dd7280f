"""The compiled dump (api/fastdump.py) gives what marshmallow gives: the inbox and the escalation
queue answer the same bytes as flask-smorest dumping their schema, and each kind of field, a missing
attribute, a default, a dict, a hook or an unusual field comes out as ``Schema.dump`` makes it."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from marshmallow import Schema, fields, post_dump

from api.fastdump import compile_dump
from api.resources import escalations as escalations_api
from api.resources import tasks as tasks_api
from cases.casework import escalations
from cases.core.models import utcnow
from tests.helpers import complete, only_task, open_case, step


def _smorest_dumps(monkeypatch, module) -> None:
    """The view hands its result to flask-smorest, which dumps it with the documented schema."""
    monkeypatch.setattr(module, "json_response", lambda _dump, obj: obj)


def test_the_inbox_and_the_queue_answer_the_bytes_flask_smorest_made(api, world, monkeypatch):
    acme, vip = world.customers["ACME"].id, world.customers["VIPCO"].id
    first = open_case(api, customer_id=acme, title="报表打开时报错 \"quoted\" \\ <b>", description="月末")
    second = open_case(api, customer_id=vip, priority_hint="urgent")
    step(api, first["id"], "classify", {"category": "data_problem", "priority": "high"})
    complete(api, only_task(api, first["id"]), data={"owner": "consultant1", "due_at": "2030-01-01T09:00:00Z"})
    open_case(api, customer_id=acme)
    assert second["id"]
    reads = [("agent1", f"/api/v1/tasks?{q}") for q in
             ("scope=mine&per_page=50", "scope=claimable", "scope=all&per_page=2&page=2", "scope=all&page=9",
              "state=completed&scope=all", "scope=mine&state=completed")] + \
            [("consultant1", "/api/v1/tasks?scope=mine"), ("supervisor", "/api/v1/tasks"),
             ("acme_user", "/api/v1/tasks?scope=claimable")] + \
            [("supervisor", f"/api/v1/escalations?{q}") for q in ("", "per_page=1&page=2", "status=breached")]
    compiled = {(user, path): api.get(path, user) for user, path in reads}
    _smorest_dumps(monkeypatch, tasks_api)
    _smorest_dumps(monkeypatch, escalations_api)
    for (user, path), answer in compiled.items():
        expected = api.get(path, user)
        assert (answer.status_code, answer.mimetype) == (expected.status_code, expected.mimetype) == \
            (200, "application/json"), path
        assert answer.get_data() == expected.get_data(), path
    assert any(len(answer.json["items"]) > 1 for answer in compiled.values())
    # the queue with entries: a month later every running target is breached
    page = escalations.queue(world.user("supervisor"), {}, 1, 20, now=utcnow() + timedelta(days=30))
    assert len(page.items) > 2
    assert escalations_api.QUEUE_PAGE(page) == escalations_api.QueuePageSchema().dump(page)


class Inner(Schema):
    name = fields.String()
    at = fields.DateTime(allow_none=True)


class Everything(Schema):
    text = fields.String()
    raw = fields.String()
    number = fields.Integer()
    string_number = fields.Integer(as_string=True)
    at = fields.DateTime()
    other_format = fields.DateTime(format="%Y-%m-%d")
    renamed = fields.String(attribute="original", data_key="shown")
    dotted = fields.String(attribute="inner.name")
    defaulted = fields.String(dump_default="none given")
    absent = fields.String()
    flag = fields.Boolean()
    upper = fields.Function(lambda obj: str(obj["text"] if isinstance(obj, dict) else obj.text).upper())
    inner = fields.Nested(Inner, allow_none=True)
    inners = fields.List(fields.Nested(Inner))
    mapping = fields.Dict()


AT = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))


def _objects():
    inner = SimpleNamespace(name="内", at=None)
    yield SimpleNamespace(text="a", raw=b"bytes \xc3\xa9".decode("latin-1").encode("latin-1"), number="42",
                          string_number=7, at=AT, other_format=AT, original="o", inner=inner,
                          inners=[inner, None, SimpleNamespace(name=3, at=AT.replace(tzinfo=None))],
                          flag=1, mapping={"k": [1]})
    yield SimpleNamespace(text=5, raw=None, number=True, string_number=None, at=None, other_format=None,
                          original=None, inner=None, inners=[], flag=None, mapping=None, defaulted=None)
    yield {"text": "from a dict", "raw": "r", "number": 1.9, "string_number": 1, "at": AT, "other_format": AT,
           "original": "x", "inner": {"name": "n", "at": AT}, "inners": [{"name": None}], "flag": False,
           "mapping": {}}


@pytest.mark.parametrize("obj", list(_objects()), ids=["object", "nones", "dict"])
def test_every_kind_of_field_dumps_as_marshmallow_dumps_it(obj):
    schema = Everything()
    assert compile_dump(schema)(obj) == schema.dump(obj)
    assert list(compile_dump(schema)(obj)) == list(schema.dump(obj))  # the same keys in the same order


def test_what_is_not_compiled_is_left_to_marshmallow():
    class Hooked(Inner):
        @post_dump
        def mark(self, data, **_kwargs):
            return {**data, "hooked": True}

    class Indexable(list):
        name = "attribute"

    obj = SimpleNamespace(name="n", at=AT)
    assert compile_dump(Hooked())(obj) == Hooked().dump(obj) == {"name": "n", "at": AT.isoformat(), "hooked": True}
    assert compile_dump(Inner(many=True))([obj]) == Inner(many=True).dump([obj])
    indexable = Indexable()
    assert compile_dump(Inner())(indexable) == Inner().dump(indexable) == {"name": "attribute"}
