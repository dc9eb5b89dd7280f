"""The inbound mail process: an SMTP server (aiosmtpd) that hands each message to caseflow.

Run it as its own process (``caseflow mail-listener``) behind the organisation's mail server:
route the support address (e.g. ``support@example.com``) to it over SMTP, or point an MX at it.
Each message is taken in with one unit of work (cases/channels/mail_in.py) before the SMTP ``250`` is
sent, so an accepted message is never lost: a failure answers ``451`` and the sending server
tries again later; a message caseflow refuses (unknown sender, automatic mail) gets ``550``.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiosmtpd.controller import Controller
from flask import Flask

from cases.channels import mail_in
from cases.core.db import db
from cases.core.errors import DomainError

log = logging.getLogger("caseflow.mail")


def _ascii(text: str) -> str:
    return " ".join(text.encode("ascii", "replace").decode().split())[:400]


@dataclass
class InboundHandler:
    app: Flask
    accepted: frozenset[str] = frozenset()  # empty: any recipient

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.accepted and address.lower() not in self.accepted:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        return await asyncio.get_running_loop().run_in_executor(None, self.take, raw)

    def take(self, raw: bytes) -> str:
        with self.app.app_context():
            try:
                delivery = mail_in.receive(raw)
            except mail_in.Refused as exc:
                log.info("refused a message: %s", exc.message)
                return f"550 5.7.1 {_ascii(exc.message)}"
            except DomainError as exc:
                log.info("could not take in a message: %s", exc.message)
                return f"550 5.6.0 {_ascii(exc.message)}"
            except Exception:
                log.exception("taking in a message failed")
                return "451 4.3.0 temporary failure, try again later"
            finally:
                db.session.remove()
        log.info("message %s: case %s", delivery.outcome, delivery.case.number)
        return f"250 2.0.0 {delivery.outcome} {delivery.case.number}"


def controller(app: Flask, host: str | None = None, port: int | None = None) -> Controller:
    config = app.config
    accepted = frozenset(a.strip().lower() for a in (config.get("MAIL_INBOUND_ADDRESSES") or "").split(",") if a.strip())
    return Controller(InboundHandler(app, accepted), hostname=host or config["MAIL_LISTEN_HOST"],
                      port=port or config["MAIL_LISTEN_PORT"], data_size_limit=config["MAIL_MAX_BYTES"])

