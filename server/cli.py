"""Command line: ``caseflow deploy``, ``caseflow demo-data``, ``caseflow create-user`` and
Flask's own commands (``caseflow db upgrade``, ``caseflow run``)."""
from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from cases.casework import storage
from cases.core import accounts
from cases.core.db import db
from cases.core.errors import DomainError
from cases.core.models import Case, User
from cases.demo import load as demo
from cases.outbox import notifications
from cases.outbox.models import Notification
from cases.process import deploy as deploying
from cases.process import deploy_files, moves, names
from cases.whatif import runs as whatif
from server.app import create_app
from workers import mail_listener, scheduler


def _fail(error: DomainError) -> None:
    lines = [error.message]
    for item in getattr(error, "errors", None) or getattr(error, "problems", None) or []:
        lines.append("  " + ", ".join(f"{k}={v}" for k, v in item.items() if v is not None))
    raise click.ClickException("\n".join(lines))


def _directories(processes: Path | None, forms: Path | None) -> tuple[Path, Path]:
    """The given folders, or the configured processes/ and forms/."""
    return (processes or Path(current_app.config["PROCESSES_DIR"]),
            forms or Path(current_app.config["FORMS_DIR"]))


def _reasons(reasons: Any, lang: str) -> str:
    return "; ".join(r.text(lang) for r in reasons)


#: ``--lang`` of the commands that say why a case stays: the reasons in English or Chinese (step names too)
LANG_OPTION = click.option("--lang", type=click.Choice(["en", "zh"]), default="en", envvar="CASEFLOW_LANG",
                           show_default=True, help="language of the reasons (also CASEFLOW_LANG)")


def _report(outcome, done: str, lang: str) -> None:
    click.echo(f"batch {outcome.batch}: {done} {len(outcome.moved)}, stayed {len(outcome.skipped)}")
    for skipped in outcome.skipped:
        click.echo(f"  instance {skipped['instance_id']}: {_reasons(skipped['reasons'], lang)}")


#: what ``caseflow deploy`` says it did
_LOADED = {
    deploy_files.INSTALLED: "empty installation: the files are version {files} and active",
    deploy_files.DEPLOYED: "deployed the files as version {files}; it is now active (was version {before})",
    deploy_files.REACTIVATED: "the files are version {files}, re-activated (was version {before})",
    deploy_files.UNCHANGED: "the files are the active version {files}; nothing to do",
    deploy_files.KEPT: "left the active version as it is; the files are {files_text} "
                       "(caseflow deploy --activate makes them the active version)",
}


@click.command("deploy")
@click.option("--processes", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--forms", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--activate", is_flag=True,
              help="make the files the active version even if another one is active")
@with_appcontext
def deploy_command(processes: Path | None, forms: Path | None, activate: bool) -> None:
    """Load processes/ and forms/ into an empty installation (or, with --activate, as the active
    version); otherwise leave the active version alone and say how the files compare to it."""
    before = deploying.active_version()
    before_id = before.id if before is not None else None
    try:
        outcome = deploy_files.load(*deploying.read_directory(*_directories(processes, forms)), activate)
    except DomainError as exc:
        _fail(exc)
    files = outcome.files_version
    files_text = f"version {files.id}" if files is not None else "in no version yet"
    click.echo(_LOADED[outcome.action].format(files=files.id if files else "-", before=before_id,
                                             files_text=files_text))
    active = outcome.active
    click.echo(f"active: version {active.id} {active.content_hash[:12]} (activated {active.activated_at:%Y-%m-%d %H:%M} "
               f"UTC): {', '.join(active.process_ids)}")
    if outcome.files_version is not None:
        _warn_untranslated({k: v.encode("utf-8") for k, v in outcome.files_version.files.items()})


def _warn_untranslated(files: dict[str, bytes]) -> None:
    for warning in names.missing_translations(files):
        click.echo(f"warning: {warning['file']} [{warning['element']}] {warning['message']}", err=True)


@click.command("validate")
@click.option("--processes", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--forms", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def validate_command(processes: Path | None, forms: Path | None) -> None:
    """Check process and form files as a deploy would, without a database or deploying."""
    problems, _ = deploying.problems_in(*deploying.read_directory(*_directories(processes, forms)))
    for problem in problems:
        where = ":".join(str(x) for x in (problem["file"], problem["line"]) if x)
        click.echo(f"{where or '-'} [{problem['element'] or '-'}] {problem['message']}")
    if problems:
        raise click.ClickException(f"{len(problems)} problem(s)")
    _warn_untranslated(deploying.read_directory(*_directories(processes, forms))[0])
    click.echo("valid")


@click.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--name", "display_name")
@click.option("--email")
@click.option("--customer", "customer_code", help="customer code, for customer users")
@with_appcontext
def create_user_command(username, password, roles, display_name, email, customer_code) -> None:
    """Create a user with one or more roles."""
    try:
        user = accounts.create_user(username, password, list(roles), display_name, email, customer_code,
                                    hash_method=current_app.config["PASSWORD_HASH_METHOD"])
    except DomainError as exc:
        _fail(exc)
    click.echo(f"user {user.username} created with roles {', '.join(sorted(user.roles))}")


@click.command("demo-data")
@click.option("--password", default="demo", show_default=True)
@with_appcontext
def demo_data_command(password: str) -> None:
    """Load demo customers, a user for every role and cases at different steps (once)."""
    logins = demo.load(password, hash_method=current_app.config["PASSWORD_HASH_METHOD"])
    if logins is None:
        click.echo("demo data already present")
        return
    click.echo("Demo logins (password: %s):" % password)
    for username, roles in logins:
        click.echo(f"  {username:<14} {', '.join(roles)}")


def _operator(username: str):

    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


@click.command("migrate")
@click.option("--from", "from_version", type=int, required=True, help="version id the cases are on")
@click.option("--to", "to_version", type=int, required=True, help="version id to move them to")
@click.option("--as", "username", required=True, help="the process owner or admin doing it")
@click.option("--dry-run", is_flag=True, help="only say which cases could move, and why not")
@LANG_OPTION
@with_appcontext
def migrate_command(from_version: int, to_version: int, username: str, dry_run: bool, lang: str) -> None:
    """Move running cases from one deployed version to another (or check which could)."""
    try:
        if dry_run:
            for v in moves.dry_run(_operator(username), from_version, to_version):
                state = "can move" if v.migratable else "stays: " + _reasons(v.reasons, lang)
                click.echo(f"{v.case_number} (instance {v.instance_id}): {state}")
            return
        outcome = moves.migrate_all(_operator(username), from_version, to_version)
    except DomainError as exc:
        _fail(exc)
    _report(outcome, "moved", lang)


@click.command("revert-migration")
@click.argument("batch")
@click.option("--as", "username", required=True, help="the process owner or admin doing it")
@LANG_OPTION
@with_appcontext
def revert_command(batch: str, username: str, lang: str) -> None:
    """Move the cases of a migration batch back where nothing happened to them since."""
    try:
        outcome = moves.revert(_operator(username), batch)
    except DomainError as exc:
        _fail(exc)
    _report(outcome, "moved back", lang)


@click.command("scheduler")
@click.option("--once", is_flag=True, help="fire what is due now (and deliver due mail), then exit")
@click.option("--worker", is_flag=True,
              help="PostgreSQL: a firing worker beside the leader (woken by it; shares the due timers)")
@with_appcontext
def scheduler_command(once: bool, worker: bool) -> None:
    """Run the scheduler process (timers, mail): one active per installation, more wait as hot
    standby. Never started by the web workers."""

    app = current_app._get_current_object()
    if once:  # alongside a running scheduler too: each timer still fires exactly once
        result = scheduler.run_once(app)
        click.echo(f"fired: {result.fired or 'nothing due'}; failed: {result.failed or 'none'}; "
                   f"left for the next run: {result.deferred or 'none'}; "
                   f"mail sent: {'no outbox' if result.delivered is None else result.delivered}")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())  # finish the instance at hand, release the lock
    if worker:
        try:
            firing = scheduler.FiringWorker(app)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
        firing.serve(stop)
        return
    scheduler.serve(app, stop)


@click.group("notifications")
def notifications_group() -> None:
    """Outbound mail: deliver what is due, list the outbox."""


@notifications_group.command("deliver")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@with_appcontext
def deliver_notifications_command(limit: int) -> None:
    """Send the due pending messages once (the scheduler does this continuously)."""
    settings = notifications.app_settings()
    if not settings.enabled:
        raise click.ClickException("SMTP_HOST is not set: delivery is disabled, messages stay pending")
    click.echo(f"sent {notifications.deliver_pending(limit=limit, settings=settings)}")


@notifications_group.command("list")
@click.option("--status", type=click.Choice(["pending", "sent", "failed"]))
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@with_appcontext
def list_notifications_command(status: str | None, limit: int) -> None:
    """The newest messages in the outbox: id, status, attempts, kind, case, recipient, subject."""

    query = select(Notification, Case.number).outerjoin(Case, Case.id == Notification.case_id)
    if status:
        query = query.where(Notification.status == status)
    rows = db.session.execute(query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))
    for n, number in rows:
        click.echo(f"{n.id}\t{n.status}\t{n.attempts}\t{n.kind}\t{number or '-'}\t{n.recipient}\t{n.subject}")
        if n.last_error and n.status != "sent":
            click.echo(f"\t  last error: {n.last_error}")


@click.command("mail-listener")
@click.option("--host", default=None, help="default: MAIL_LISTEN_HOST")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="default: MAIL_LISTEN_PORT")
@with_appcontext
def mail_listener_command(host: str | None, port: int | None) -> None:
    """Run the inbound mail process: an SMTP server whose messages open and continue cases."""

    app = current_app._get_current_object()
    smtp = mail_listener.controller(app, host, port)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    smtp.start()
    click.echo(f"listening for mail on {smtp.hostname}:{smtp.port}")
    try:
        stop.wait()
    finally:
        smtp.stop()


@click.group("attachments")
def attachments_group() -> None:
    """Attachment storage."""


@attachments_group.command("move-to-database")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=50, show_default=True)
@with_appcontext
def move_to_database_command(batch_size: int) -> None:
    """Copy the attachments kept on the filesystem (ATTACHMENT_DIR) into the database and point
    them there; safe to interrupt and run again. Then set ATTACHMENT_STORAGE=database. The files
    stay: delete them once a backup of the database holds the bytes."""
    moved, missing = storage.move_to_database(current_app.config, batch_size)
    click.echo(f"moved {moved} attachment(s) into the database")
    if missing:
        click.echo(f"missing on the filesystem, left as they were: {', '.join(map(str, missing))}", err=True)
        raise SystemExit(1)

class _Progress:
    """A progress bar on stderr, made when the replay knows how many cases it will read."""

    def __init__(self) -> None:
        self.bar: Any = None  # click's ProgressBar, entered by hand
        self.done = self.total = 0

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label="replaying", file=sys.stderr,
                                         show_pos=True, show_eta=True)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            if not sys.stderr.isatty():  # the bar draws nothing but its label there
                click.echo(f"replayed {self.done}/{self.total} cases", err=True)


def _share(figure: dict[str, Any]) -> str:
    return "-" if figure["value"] is None else f"{figure['value'] * 100:.1f} % ({figure['numerator']}/{figure['denominator']})"


@click.command("whatif")
@click.option("--from", "first", type=click.DateTime(["%Y-%m-%d"]), required=True, help="first day (Asia/Shanghai)")
@click.option("--to", "last", type=click.DateTime(["%Y-%m-%d"]), required=True, help="last day, included")
@click.option("--as", "username", required=True, help="a manager, process owner or admin")
@click.option("--proposal", "proposal_file", type=click.File("r", encoding="utf-8"),
              help="JSON: {\"policy\": ..., \"calendars\": {...}} (docs/what-if.md); left out: the control only")
@click.option("--save", "name", help="keep the replay under this name")
@click.option("--csv", "csv_file", type=click.File("w", encoding="utf-8-sig"), help="write the figures as CSV")
@click.option("--json", "json_file", type=click.File("w", encoding="utf-8"), help="write the whole result")
@click.option("--explain", "case_number", help="say why this case's outcome differs (no period replay)")
@with_appcontext
def whatif_command(first: datetime, last: datetime, username: str, proposal_file: TextIO | None, name: str | None,
                   csv_file: TextIO | None, json_file: TextIO | None, case_number: str | None) -> None:
    """Replay a period's cases under a proposed SLA policy or calendar, beside what happened."""
    actor = _operator(username)
    try:
        proposal = json.load(proposal_file) if proposal_file else {}
    except ValueError as exc:
        raise click.ClickException(f"the proposal is not JSON: {exc}") from None
    first_day, last_day = date.fromordinal(first.toordinal()), date.fromordinal(last.toordinal())
    progress = _Progress()
    try:
        if case_number:
            why = whatif.explain(actor, case_number, proposal)
            for target in why["targets"]:
                click.echo(target["text"])
            return
        if name:
            run = whatif.save(actor, name, first_day, last_day, proposal, progress=progress)
            result = run.result or {}
        else:
            result = whatif.replay_period(actor, first_day, last_day, proposal, progress=progress)
    except DomainError as error:
        _fail(error)
    finally:
        progress.close()
    control = result["control"]
    click.echo(f"{result['cases']} cases opened {result['from']} .. {result['to']}; control "
               f"{'equal to the stored outcomes and KPIs' if control['equal'] else 'DIFFERS: ' + str(control['mismatched_cases']) + ' cases'}")
    totals = result["totals"]
    click.echo(f"{'':28}{'actual':>22}{'control':>22}{'proposal':>22}")
    for figure in ("first_response_within_sla", "resolution_within_sla"):
        click.echo(f"{figure:28}" + "".join(f"{_share(totals[c][figure]):>22}" for c in ("actual", "control", "proposal")))
    for figure in ("breaches",):
        click.echo(f"{figure:28}" + "".join(f"{totals[c][figure]:>22}" for c in ("actual", "control", "proposal")))
    click.echo(f"changed: {result['changed']['cases']} cases, {result['changed']['targets']} targets")
    if assigned := result.get("assignment"):
        ctl = assigned["control"]
        click.echo(f"assignment: {assigned['tasks']} tasks; control "
                   f"{'gives back every recorded first holder' if ctl['equal'] else 'DIFFERS: ' + str(ctl['mismatched']) + ' of ' + str(ctl['checked']) + ' tasks'}"
                   f" ({ctl['checked']} assigned by a strategy); moved: {assigned['moved']['tasks']} tasks in "
                   f"{assigned['moved']['cases']} cases; nobody on duty: {assigned['nobody_on_duty']['proposal']}")
        click.echo(f"{'tasks received':28}{'actual':>22}{'control':>22}{'proposal':>22}")
        for person in assigned["people"]:
            click.echo(f"{person['key'] or '(the lane)':28}" + "".join(f"{person[c]:>22}" for c in ("actual", "control", "proposal")))
    for limit in result["limits"]:
        count = "" if limit["count"] is None else f" ({limit['count']})"
        click.echo(f"limit{count}: {limit['message']}")
    if name:
        click.echo(f"saved as replay {run.id}")
    if csv_file:
        csv_file.write(whatif.as_csv(result).lstrip("\ufeff"))
    if json_file:
        json.dump(result, json_file, ensure_ascii=False, indent=1)


@click.group(cls=FlaskGroup, create_app=create_app)
def main() -> None:
    """caseflow: after-sales support cases on BPMN."""


for _command in (deploy_command, validate_command, create_user_command, demo_data_command, scheduler_command,
                 migrate_command, revert_command, mail_listener_command, notifications_group, attachments_group,
                 whatif_command):
    main.add_command(_command)
