"""GET /api/v1/cases/{id}'s history is read as rows (queries.case_history) and dumped without
marshmallow's per-field machinery (case_schemas.EventList): the answer is the same JSON as the
schema's dump of the ORM events, for staff and for the customer, and the OpenAPI document still
describes each event by its schema."""
from __future__ import annotations

import json

from flask import json as flask_json
from marshmallow import Schema, fields
from sqlalchemy import select

from api.resources.case_schemas import CustomerEventSchema, EventSchema
from cases.casework import queries
from cases.core import events
from cases.core.db import db
from cases.core.models import Case, CaseEvent
from tests.helpers import get_case, open_case, step


class _StaffHistory(Schema):
    history = fields.List(fields.Nested(EventSchema))


class _CustomerHistory(Schema):
    history = fields.List(fields.Nested(CustomerEventSchema))


def _as_served(value) -> object:
    """What a client reads: the value through Flask's JSON encoder and back."""
    return json.loads(flask_json.dumps(value))


def _orm_history(case_id: int, public_only: bool) -> list[CaseEvent]:
    db.session.expire_all()
    query = select(CaseEvent).where(CaseEvent.case_id == case_id)
    if public_only:
        query = query.where(CaseEvent.public.is_(True))
    return list(db.session.scalars(query.order_by(CaseEvent.at, CaseEvent.id)))


def _a_case_with_varied_history(api, world) -> int:
    case_id = open_case(api, customer_id=world.customers["ACME"].id)["id"]
    step(api, case_id, "classify")
    step(api, case_id, "assign")
    case = db.session.get(Case, case_id)
    events.record(case, "comment", None, text="by the system")
    events.record(case, "customer_message", world.user("acme_user"), public=True,
                  text="still broken", nested={"list": [1, 2.5, None, "x"], "zh": "仍然失败"})
    events.record(case, "staff_reply", world.user("agent1"), public=True, text="we look at it")
    events.record(case, "comment", world.user("supervisor"))  # empty data
    db.session.commit()
    return case_id


def test_the_history_is_the_schemas_dump_of_the_events(api, world):
    case_id = _a_case_with_varied_history(api, world)
    for user, schema, public_only in (("supervisor", _StaffHistory(), False), ("agent1", _StaffHistory(), False),
                                      ("acme_user", _CustomerHistory(), True)):
        served = get_case(api, case_id, as_user=user)["history"]
        expected = _as_served(schema.dump({"history": _orm_history(case_id, public_only)})["history"])
        assert served == expected, user
        assert len(served) > 4
    # the customer sees support's names as "support" and their own; staff see every name
    customer = get_case(api, case_id, as_user="acme_user")["history"]
    assert {"support", "acme_user"} <= {e["actor"] for e in customer}
    assert None in {e["actor"] for e in get_case(api, case_id)["history"]}


def test_case_history_reads_what_the_orm_reads(api, world):
    case_id = _a_case_with_varied_history(api, world)
    for public_only in (False, True):
        rows = queries.case_history(case_id, public_only=public_only)
        orm = _orm_history(case_id, public_only)
        assert [(r.id, r.case_id, r.at, r.actor_id, r.kind, r.public, r.data, r.actor) for r in rows] == \
            [(e.id, e.case_id, e.at, e.actor_id, e.kind, e.public, e.data, e.actor) for e in orm]


def test_the_openapi_document_describes_the_history_by_its_schemas(api):
    spec = api.get("/api/openapi.json").json
    schemas = spec["components"]["schemas"]
    detail = next(v for k, v in schemas.items() if k.startswith("CaseDetail"))
    assert detail["properties"]["history"]["type"] == "array"
    assert detail["properties"]["history"]["items"]["$ref"].endswith("/Event")
    assert set(schemas["Event"]["properties"]) == {"id", "at", "kind", "actor", "data"}
