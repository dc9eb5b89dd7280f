"""What assignment strategies read besides roles: a user's skills and their duty roster."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .db import db
from .models import UTCDateTime, utcnow


class UserSkill(db.Model):
    """The categories and products a staff member handles (the ``skills`` strategy matches a case's
    category and its customer's installed products against them)."""

    __tablename__ = "user_skills"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    categories: Mapped[list] = mapped_column(JSON, default=list)
    products: Mapped[list] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DutyShift(db.Model):
    """One shift of a user's weekly roster: a weekday and local minutes ``[start, end)`` in a zone
    (an overnight shift is two rows). The ``on_duty`` strategy assigns only users on a shift now."""

    __tablename__ = "duty_shifts"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 Monday .. 6 Sunday
    start_minute: Mapped[int] = mapped_column(Integer)
    end_minute: Mapped[int] = mapped_column(Integer)  # up to 1440 (midnight at the end of the day)
    timezone: Mapped[str] = mapped_column(String(64))
