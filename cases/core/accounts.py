"""Users, passwords and API tokens."""
from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from cases.core import audit
from cases.core.access import require_role
from cases.core.db import db, unit_of_work, use_case
from cases.core.errors import Conflict, Forbidden, NotFound, TooManyAttempts, Unauthenticated, ValidationFailed
from cases.core.models import ApiToken, Customer, LoginFailure, Role, User, UserRole, utcnow
from cases.core.paging import paginate


@functools.cache
def _dummy_hash(method: str) -> str:
    """A real hash of a random password, made with the configured method: checking an unknown
    user name then costs the same time as a known one, so timing reveals no user names."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_roles(roles: list[str]) -> None:
    unknown = set(roles) - {r.value for r in Role}
    if unknown or not roles:
        raise ValidationFailed("unknown roles", [{"field": "roles", "message": f"unknown: {sorted(unknown)}"
                                                  if unknown else "at least one role"}])


@use_case
def add_user(actor: User, fields: dict, hash_method: str = "scrypt") -> User:
    """An admin creates a user."""
    require_role(actor, Role.ADMIN.value)
    user = create_user(fields["username"], fields["password"], fields["roles"], fields.get("display_name"),
                       fields.get("email"), fields.get("customer"), hash_method=hash_method)
    audit.record(actor, "user_created", user.username, roles=sorted(fields["roles"]))
    return user


def list_users(actor: User, role: str | None, page: int, per_page: int):
    require_role(actor, Role.ADMIN.value)
    query = select(User)
    if role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return paginate(query.order_by(User.username), page, per_page)


@use_case
def update_user(actor: User, user_id: int, changes: dict, hash_method: str = "scrypt") -> User:
    """An admin changes a user's roles, activity, name, e-mail or password."""
    require_role(actor, Role.ADMIN.value)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found", resource="user", id=user_id)
    if "roles" in changes:
        _check_roles(changes["roles"])
        if Role.CUSTOMER.value in changes["roles"] and user.customer_id is None:
            raise ValidationFailed("a customer user belongs to a customer",
                                   [{"field": "roles", "message": "this user belongs to no customer"}])
        if user.id == actor.id and Role.ADMIN.value not in changes["roles"]:
            raise Conflict("admins cannot take the admin role from themselves", code="last_admin_guard")
        user.role_rows = [UserRole(role=r) for r in sorted(set(changes["roles"]))]
    if "active" in changes:
        if user.id == actor.id and not changes["active"]:
            raise Conflict("admins cannot deactivate themselves", code="last_admin_guard")
        user.active = changes["active"]
    for name in ("display_name", "email"):
        if name in changes:
            setattr(user, name, changes[name])
    if changes.get("password"):
        user.password_hash = generate_password_hash(changes["password"], method=hash_method)
    audit.record(actor, "user_updated", user.username,
                 changed=sorted(k if k != "password" else "password" for k in changes))
    return user


def staff_with_role(actor: User, role: str | None = None) -> list[User]:
    """Active staff users (holding ``role``, if given), for staff choosing a colleague."""
    if not actor.is_staff:
        raise Forbidden("only staff see their colleagues")
    query = select(User).where(User.active.is_(True), User.customer_id.is_(None))
    if role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    return list(db.session.scalars(query.options(joinedload(User.role_rows)).order_by(User.display_name)).unique())


@use_case
def create_user(username: str, password: str, roles: list[str], display_name: str | None = None,
                email: str | None = None, customer_code: str | None = None,
                hash_method: str = "scrypt") -> User:
    _check_roles(roles)
    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"the user name {username} is taken", code="username_taken")
    customer = None
    if customer_code:
        customer = db.session.scalar(select(Customer).where(Customer.code == customer_code))
        if customer is None or customer.internal:  # the service's own organisation has no customer users
            raise ValidationFailed("unknown customer", [{"field": "customer", "message": customer_code}])
    if Role.CUSTOMER.value in roles and customer is None:
        raise ValidationFailed("a customer user belongs to a customer",
                               [{"field": "customer", "message": "required for the customer role"}])
    user = User(username=username, display_name=display_name or username, email=email,
                password_hash=generate_password_hash(password, method=hash_method), customer=customer,
                role_rows=[UserRole(role=r) for r in sorted(set(roles))])
    db.session.add(user)
    db.session.flush()
    return user


#: Log-in rate limit: failed attempts within the window, per user name and per address.
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 10
MAX_FAILURES_PER_ADDRESS = 100


def _check_rate(username: str, remote_addr: str | None) -> None:
    since = utcnow() - LOGIN_WINDOW
    for column, value, limit in ((LoginFailure.username, username, MAX_FAILURES_PER_USER),
                                 (LoginFailure.remote_addr, remote_addr, MAX_FAILURES_PER_ADDRESS)):
        if value is None:
            continue
        oldest = db.session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(column == value, LoginFailure.at > since)
        ).one()
        if oldest[0] >= limit:
            retry_after = max(1, int((oldest[1] + LOGIN_WINDOW - utcnow()).total_seconds()) + 1)
            raise TooManyAttempts("too many failed log-ins; try again later", retry_after)


def _record_failure(username: str, remote_addr: str | None) -> None:
    with unit_of_work():
        db.session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - LOGIN_WINDOW))
        db.session.add(LoginFailure(username=username[:80], remote_addr=remote_addr, at=utcnow()))


def issue_token(username: str, password: str, lifetime: timedelta, hash_method: str = "scrypt",
                remote_addr: str | None = None) -> tuple[str, ApiToken]:
    # The slow password check runs before the write transaction: on SQLite no writer waits
    # behind a log-in.
    _check_rate(username, remote_addr)
    user = db.session.scalar(select(User).where(User.username == username))
    valid = check_password_hash(user.password_hash if user else _dummy_hash(hash_method), password)
    if user is None or not valid or not user.active:
        _record_failure(username, remote_addr)
        raise Unauthenticated("unknown user name or wrong password")
    token = secrets.token_urlsafe(32)
    with unit_of_work():
        row = ApiToken(user=user, user_id=user.id, token_hash=_digest(token), expires_at=utcnow() + lifetime)
        db.session.add(row)
    return token, row


def user_for_token(token: str) -> User | None:
    row = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(token))
        .options(joinedload(ApiToken.user).joinedload(User.role_rows),
                 joinedload(ApiToken.user).joinedload(User.customer))
    )
    if row is None or not row.is_valid(utcnow()):
        return None
    return row.user


@use_case
def revoke_token(token: str) -> None:
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
