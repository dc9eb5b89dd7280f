"""A task's JSON schema as an HTML form, and the form's fields back as the task's data.

There is one definition of each form: the schema in forms/*.schema.json that the API validates
against (cases/process/forms.py). This module only reads it: a field per property, its label from
``title`` / ``x-title-zh``, its widget from the type, ``format``, ``enum`` and ``x-widget``,
required marks from ``required`` and hints from the ``if``/``then`` rules. The submitted fields
become JSON typed as the schema says; what the schema then rejects comes back as a message
beside each field, in the page's language.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from cases.process import forms
from web.display import word, zone_name
from web.i18n import is_chinese, localized


@dataclass
class Option:
    value: str
    label: str


@dataclass
class Field:
    name: str
    label: str
    widget: str  # text | textarea | select | radio | yesno | integer | number | date | datetime | lines
    required: bool
    value: Any = None
    hint: str | None = None
    options: list[Option] = field(default_factory=list)
    error: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    #: when the field applies (any of these, each: field -> the value it must have); empty: always
    show_when: list[dict[str, Any]] = field(default_factory=list)

    @property
    def html_id(self) -> str:
        return f"field-{self.name}"


def timezone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("WEB_TIMEZONE", "Asia/Shanghai"))


def _enum_label(prop: dict, value: Any) -> str:
    titles_zh, titles = prop.get("x-enum-titles-zh") or {}, prop.get("x-enum-titles") or {}
    if is_chinese() and str(value) in titles_zh:
        return titles_zh[str(value)]
    if is_chinese() or str(value) not in titles:
        return word(value)
    return titles[str(value)]


def _widget(prop: dict) -> str:
    kind = prop.get("type")
    if "enum" in prop:
        return "radio" if len(prop["enum"]) <= 3 and "x-enum-titles" in prop else "select"
    if kind == "boolean":
        return "yesno"
    if kind in ("integer", "number"):
        return kind
    if kind == "array":
        return "lines"
    if prop.get("format") == "date":
        return "date"
    if prop.get("format") == "date-time":
        return "datetime"
    if prop.get("x-caseflow-user-role"):
        return "user"
    return "textarea" if prop.get("x-widget") == "textarea" else "text"


def _conditions(schema: dict) -> dict[str, list[str]]:
    """field -> the conditions under which an if/then rule requires it, as sentences."""
    rules = [schema] if "if" in schema else []
    rules += [r for r in schema.get("allOf", []) if "if" in r]
    found: dict[str, list[str]] = {}
    properties = schema.get("properties", {})
    for rule in rules:
        when = []
        for name, test in rule["if"].get("properties", {}).items():
            if "const" in test and name in properties:
                prop = properties[name]
                shown = _enum_label(prop, test["const"]) if "enum" in prop else (
                    _("Yes") if test["const"] is True else _("No") if test["const"] is False else str(test["const"]))
                when.append(_('"%(field)s" is "%(value)s"', field=localized(prop) or name, value=shown))
        for name in rule.get("then", {}).get("required", []):
            found.setdefault(name, []).extend(when)
    return found


def _applies_when(schema: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """field -> the situations it applies in: the if/then rules that require a field the schema
    does not always require (``{"outcome": "resolved"}``, as the form submits it). The page shows
    such a field only when one holds (web/assets/src/forms.js); what is required is decided by the
    schema on the server either way."""
    rules = [schema] if "if" in schema else []
    rules += [r for r in schema.get("allOf", []) if "if" in r]
    always = set(schema.get("required", []))
    found: dict[str, list[dict[str, Any]]] = {}
    for rule in rules:
        tests = rule["if"].get("properties", {})
        if not tests or any("const" not in test for test in tests.values()):
            continue
        when = {name: _submitted(test["const"]) for name, test in tests.items()}
        for name in rule.get("then", {}).get("required", []):
            if name not in always:
                found.setdefault(name, []).append(when)
    return found


def _submitted(value: Any) -> str:
    """A value as the form's input submits it."""
    return {True: "true", False: "false"}.get(value, str(value)) if isinstance(value, bool) else str(value)


def _shown(prop: dict, value: Any) -> Any:
    """A stored value as the input shows it."""
    if value is None:
        return None
    if prop.get("format") == "date-time" and isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = moment.astimezone(timezone())
        return moment.strftime("%Y-%m-%dT%H:%M")
    if prop.get("type") == "array" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return value


def fields(schema: dict, values: dict[str, Any], users: dict[str, list] | None = None) -> list[Field]:
    """The form's fields with their values (``values``: stored or as submitted)."""
    required = set(schema.get("required", []))
    conditions = _conditions(schema)
    applies = _applies_when(schema)
    out = []
    for name, prop in schema.get("properties", {}).items():
        widget = _widget(prop)
        hint = localized(prop, "description")
        if name in conditions and name not in required and conditions[name]:
            hint = " ".join(filter(None, [hint, _("Required when %(conditions)s.",
                                                  conditions=_(" or ").join(conditions[name]))]))
        item = Field(name, localized(prop) or name.replace("_", " "), widget, name in required,
                     _shown(prop, values.get(name)), hint, show_when=applies.get(name, []))
        if "enum" in prop:
            item.options = [Option(str(v), _enum_label(prop, v)) for v in prop["enum"]]
        reference = forms.REFERENCES.get(prop.get("x-caseflow-reference", ""))
        if reference is not None:  # a row another room keeps (the service catalogue): choose one
            item.options = [Option(value, label) for value, label in reference.choices()]
            item.widget = "select" if item.options else widget  # no choices (a checked date): as typed
        if widget == "user":
            item.options = [Option(u.username, f"{u.display_name} ({u.username})")
                            for u in (users or {}).get(prop["x-caseflow-user-role"], [])]
            item.widget = "select" if item.options else "text"
        for key, attr in (("minimum", "min"), ("maximum", "max"), ("maxLength", "maxlength")):
            if key in prop:
                item.attrs[attr] = prop[key]
        if widget == "number":
            item.attrs["step"] = "any"
        if widget == "datetime":
            item.hint = " ".join(filter(None, [item.hint, _("A local time in %(zone)s.", zone=zone_name())]))
        out.append(item)
    return out


def user_roles(schema: dict) -> set[str]:
    """The roles whose users the form's user fields choose from."""
    return {p["x-caseflow-user-role"] for p in schema.get("properties", {}).values() if p.get("x-caseflow-user-role")}


def _typed(prop: dict, raw: str) -> Any:
    """One submitted text as the schema's type; what does not convert stays text (the schema
    then says what is wrong)."""
    kind = prop.get("type")
    try:
        if kind == "integer":
            return int(raw.strip())
        if kind == "number":
            number = float(raw.strip().replace(",", "."))
            return int(number) if number.is_integer() else number
    except ValueError:
        return raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if prop.get("format") == "date-time":
        try:
            moment = datetime.fromisoformat(raw.strip())
        except ValueError:
            return raw
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone())
        return moment.isoformat()
    return raw


def data_from(schema: dict, form: MultiDict) -> dict[str, Any]:
    """The task data a submitted form means: only the schema's fields; an empty field is absent."""
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        raw = form.get(name, "")
        if prop.get("type") == "array":
            items = [line.strip() for line in raw.splitlines() if line.strip()]
            if items or name in form:
                data[name] = items
            continue
        if raw.strip() == "":
            continue
        data[name] = _typed(prop, raw)
    return data


def error_text(problem: dict) -> str:
    """A schema problem (cases.forms.problems) as a sentence in the page's language."""
    rule, limit = problem.get("rule"), problem.get("limit")
    if rule == "required":
        return _("This field is required.")
    if rule == "type":
        return {"integer": _("Enter a whole number."), "number": _("Enter a number."),
                "boolean": _("Choose yes or no.")}.get(limit, _("This value has the wrong form."))
    if rule == "minLength":
        return _("This field is required.") if limit == 1 else _("At least %(n)d characters.", n=limit)
    if rule == "maxLength":
        return _("At most %(n)d characters.", n=limit)
    if rule in ("minimum", "exclusiveMinimum"):
        return _("At least %(n)s.", n=limit)
    if rule in ("maximum", "exclusiveMaximum"):
        return _("At most %(n)s.", n=limit)
    if rule in ("enum", "const"):
        return _("Choose one of the options.")
    if rule == "format":
        return {"date": _("Enter a date."), "date-time": _("Enter a date and a time."),
                "email": _("Enter an e-mail address.")}.get(limit, _("This value has the wrong form."))
    if rule == "maxItems":
        return _("At most %(n)d lines.", n=limit)
    if rule == "x-caseflow-user-role":
        return _("Choose an active user with the role “%(role)s”.", role=word(limit))
    return problem.get("message", _("This value is not valid."))


def attach_errors(items: list[Field], problems: list[dict], prefix: str = "data") -> list[str]:
    """Put each problem beside its field; returns those that belong to no field."""
    by_name = {f.name: f for f in items}
    loose = []
    for problem in problems:
        path = (problem.get("field") or "").split(".")
        name = path[1] if len(path) > 1 and path[0] == prefix else None
        if name in by_name and by_name[name].error is None:
            by_name[name].error = error_text(problem)
        elif name not in by_name:
            loose.append(error_text(problem))
    return loose
