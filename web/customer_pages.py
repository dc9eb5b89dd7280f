"""The customer page (/customers/<id>): the record — address, contacts, installed products,
contracts — for staff, with forms to change it for admins and customer service managers; and the
customer panel on the case page (``_customer_panel.html``, fed by the template global
``customer_record``). The customer list at /customers is another page's."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import flash, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from cases.core.errors import Conflict, NotFound, PreconditionRequired, ValidationFailed
from cases.core.models import TIERS, Customer
from cases.customers import records as customer_records
from web.pages import back_to, current_user, page_blueprint, render

blp = page_blueprint("customer_record")

ID = "int(max=2147483647)"


@dataclass(frozen=True)
class Input:
    """One field of a customer form: its name (the domain's), label, kind and limit."""

    name: str
    label: Any
    kind: str = "text"  # text | textarea | date | email | tier | checkbox
    max_length: int = 200
    required: bool = False


RECORD = (Input("name", _l("Name"), required=True), Input("address", _l("Address"), max_length=500),
          Input("tier", _l("Tier"), "tier"), Input("notes", _l("Internal notes"), "textarea", 10000))
ITEMS = {
    "contacts": ("contact", (Input("name", _l("Name"), required=True), Input("role", _l("Role"), max_length=100),
                             Input("phone", _l("Phone"), max_length=50), Input("email", _l("E-mail"), "email", 254),
                             Input("is_primary", _l("Primary contact"), "checkbox"))),
    "products": ("product", (Input("product", _l("Product"), max_length=100, required=True),
                             Input("product_version", _l("Version"), max_length=100, required=True),
                             Input("installed_on", _l("Installed on"), "date"),
                             Input("environment", _l("Environment and configuration"), "textarea", 10000))),
    "contracts": ("contract", (Input("number", _l("Contract number"), max_length=60, required=True),
                               Input("tier", _l("Tier"), "tier", required=True),
                               Input("start", _l("Start"), "date", required=True),
                               Input("end", _l("End"), "date", required=True),
                               Input("warranty_until", _l("Warranty until"), "date"),
                               Input("calendar", _l("Support hours (calendar)"), max_length=60))),
}
STATUS_WORDS = {"active": _l("active"), "expired": _l("expired"), "upcoming": _l("upcoming")}


@blp.app_template_global()
def customer_record(customer: Customer) -> customer_records.CustomerView:
    """The customer's record for the case page's panel (staff only include it)."""
    return customer_records.view(customer, internal=True)


@blp.app_template_global()
def contract_status(contract) -> str:
    return str(STATUS_WORDS[contract.status_on(customer_records.today())])


@blp.get(f"/customers/<{ID}:customer_id>")
def customer(customer_id: int):
    return _page(customer_id)


def _page(customer_id: int, status: int = 200, typed: dict[str, Any] | None = None,
          notice: str | None = None) -> Any:
    """The customer page; after a stale save, the record form holds what was typed (``typed``) over
    the record as it is now, with ``notice`` beside it."""
    user = current_user()
    record = customer_records.read(user, customer_id)
    return render("customer.html", status, record=record, record_inputs=RECORD, items=ITEMS, tiers=TIERS,
                  may_edit=user.has_role(*customer_records.EDITORS), typed=typed, notice=notice)


class Refused(Exception):
    """A form the page refuses before calling the use case (nothing was changed)."""


def _value(spec: Input) -> Any:
    if spec.kind == "checkbox":
        return request.form.get(spec.name) == "on"
    text = request.form.get(spec.name, "").strip()
    if not text:
        if spec.required:
            raise Refused(_("%(field)s: this field is required.", field=spec.label))
        return None
    if len(text) > spec.max_length:
        raise Refused(_("%(field)s: at most %(n)d characters.", field=spec.label, n=spec.max_length))
    if spec.kind == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise Refused(_("%(field)s: enter a date as YYYY-MM-DD.", field=spec.label)) from None
    if spec.kind == "tier" and text not in TIERS:
        raise Refused(_("%(field)s: choose one of the tiers.", field=spec.label))
    return text


def _fields(specs: tuple[Input, ...]) -> dict[str, Any]:
    return {spec.name: _value(spec) for spec in specs}


def _version() -> int | None:
    raw = request.form.get("version", "")
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def _labels(specs: tuple[Input, ...]) -> dict[str, str]:
    return {spec.name: str(spec.label) for spec in specs}


def _saved(customer_id: int, action, specs: tuple[Input, ...], done: str, stale_raises: bool = False):
    """Run ``action``; flash what happened (a refusal names the field, nothing saved); back to the page.
    A stale version is raised to the caller with ``stale_raises`` (the caller shows the form again)."""
    try:
        action()
    except Refused as exc:
        flash(_("Nothing was saved: %(why)s", why=str(exc)), "error")
    except ValidationFailed as exc:
        labels = _labels(specs)
        why = "; ".join(f"{labels.get(e['field'], e['field'])}: {e['message']}" for e in exc.errors)
        flash(_("Nothing was saved: %(why)s", why=why), "error")
    except (Conflict, PreconditionRequired):
        if stale_raises:
            raise
        flash(_("Someone changed this meanwhile. Nothing was saved; here is the current record."), "error")
    else:
        flash(done, "success")
    return back_to("customer_record.customer", customer_id=customer_id)


@blp.post(f"/customers/<{ID}:customer_id>")
def update(customer_id: int):
    def act():
        fields = _fields(RECORD)
        if fields.get("tier") is None:
            fields.pop("tier", None)
        customer_records.update(current_user(), customer_id, fields, _version())
    try:
        return _saved(customer_id, act, RECORD, _("The customer record was saved."), stale_raises=True)
    except (Conflict, PreconditionRequired):
        typed = {spec.name: request.form.get(spec.name, "") for spec in RECORD}
        return _page(customer_id, 409, typed, _(
            "Someone changed this record meanwhile. Nothing was saved: above is the record as it is now; "
            "the form still holds what you typed. Check it and save again."))


def _kind(path: str) -> tuple[str, tuple[Input, ...]]:
    if path not in ITEMS:
        raise NotFound(f"no {path} on a customer", resource="page", id=path)
    return ITEMS[path]


@blp.post(f"/customers/<{ID}:customer_id>/<string:kind>")
def add_item(customer_id: int, kind: str):
    name, specs = _kind(kind)
    return _saved(customer_id, lambda: customer_records.add_item(current_user(), customer_id, name, _fields(specs)),
                  specs, _("Added."))


@blp.post(f"/customers/<{ID}:customer_id>/<string:kind>/<{ID}:item_id>")
def update_item(customer_id: int, kind: str, item_id: int):
    name, specs = _kind(kind)
    return _saved(customer_id, lambda: customer_records.update_item(
        current_user(), customer_id, name, item_id, _fields(specs), _version()), specs, _("Saved."))


@blp.post(f"/customers/<{ID}:customer_id>/<string:kind>/<{ID}:item_id>/remove")
def remove_item(customer_id: int, kind: str, item_id: int):
    name, specs = _kind(kind)
    return _saved(customer_id, lambda: customer_records.remove_item(
        current_user(), customer_id, name, item_id, _version()), specs, _("Removed."))
