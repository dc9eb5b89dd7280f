"""The database handle, transactions and the SQLite settings caseflow relies on."""
from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, TypeVar, cast

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, Table, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Objects stay readable after commit: a response is built from what was just written
# without a second round of SELECTs.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("uow_depth", default=0)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        # Let SQLAlchemy's "begin" hook below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


#: the ``connect_args`` key server/config.py puts the PostgreSQL session settings under
SESSION_OPTIONS_KEY = "caseflow_session_options"


@event.listens_for(Engine, "do_connect")
def _session_options(dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
    """A PostgreSQL connection starts with the configured settings (``-c jit=off`` by default),
    added to the ``options`` the URL may already carry; other databases drop them."""
    extra = cparams.pop(SESSION_OPTIONS_KEY, None)
    if extra and dialect.name == "postgresql":
        cparams["options"] = f"{cparams.get('options') or ''} {extra}".strip()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn: Any) -> None:
    if conn.dialect.name == "sqlite":
        # A write transaction takes the write lock up front: two writers queue on the busy
        # timeout instead of failing when a reader tries to upgrade (SQLITE_BUSY_SNAPSHOT).
        write = _write_intent.get()
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        conn.info["caseflow_write"] = write
    else:
        conn.info["caseflow_write"] = True  # a PostgreSQL transaction can always go on to write


def _in_read_only_transaction() -> bool:
    session = db.session()
    if not session.in_transaction():
        return False
    return not session.connection().info.get("caseflow_write", False)


def begin_write_request() -> contextvars.Token:
    """Declare that what follows (e.g. a POST request) will write: on SQLite its first
    transaction then starts with the write lock, so authentication and the use case share it."""
    return _write_intent.set(True)


def end_write_request(token: contextvars.Token) -> None:
    _write_intent.reset(token)


@contextmanager
def without_write_intent() -> Iterator[None]:
    """What opens a transaction inside only reads, on a connection of its own (a what-if replay): on
    SQLite it begins a plain read transaction instead of queueing for the write lock its request holds."""
    token = _write_intent.set(False)
    try:
        yield
    finally:
        _write_intent.reset(token)


T = TypeVar("T")

# -- what one transaction already read ---------------------------------------------------------
# A step reads the same few rows several times (a case's SLA targets, its pauses, a calendar): an
# ORM re-query returns the very objects of the identity map anyway (their loaded attributes are not
# refreshed), so the only thing a re-query can tell is that rows were added or removed. The cache
# below keeps such a result for the rest of the transaction and forgets it whenever that may have
# happened: an object of the model becomes pending, is deleted or is flushed as new (a read without
# autoflush did not see it), or a bulk INSERT/UPDATE/DELETE statement runs on its table; and all of
# it when the transaction (or a savepoint) ends.
_CACHE = "caseflow_rows"


def transaction_rows(model: type, key: Any, load: Callable[[], Iterable[T]]) -> list[T]:
    """``load()``'s rows of ``model`` for ``key``, read once per transaction (a new list each call).

    ``load`` reads ``model``'s table alone. Before it reads, the rows of ``model`` that the session
    added or deleted are flushed — also without autoflush (a step that started a target reads it) —
    and, with autoflush, its changed ones; pending changes to other tables wait for the step's one
    flush: they cannot change which rows of this table the read finds."""
    session = db.session()
    rows = session.info.setdefault(_CACHE, {}).setdefault(model, {})  # {model: {key: rows}}
    if key not in rows or any(isinstance(obj, model) for obj in session.deleted):
        if _touches(session, model):
            session.flush()
        with session.no_autoflush:
            rows[key] = list(load())
    return list(rows[key])


def flush_for(*models: type) -> None:
    """Before a read whose result depends on the tables of ``models`` (a count, an order, a row
    re-read with ``populate_existing``): flush when the session holds added, changed or deleted
    rows of them — also without autoflush, as a step's bookkeeping runs."""
    session = db.session()
    if any(isinstance(obj, models) for objects in (session.new, session.dirty, session.deleted) for obj in objects):
        session.flush()


def _touches(session: Session, model: type) -> bool:
    """Whether the session holds added or deleted rows of ``model`` (with autoflush: changed ones too)."""
    pending = [session.new, session.deleted, session.dirty] if session.autoflush else [session.new, session.deleted]
    return any(isinstance(obj, model) for objects in pending for obj in objects)


def _forget(session: Session) -> None:
    """Everything the transaction kept: its cached reads and its primed rows."""
    session.info.pop(_PRIMED, None)
    cache = session.info.get(_CACHE)
    if cache:
        cache.clear()


@event.listens_for(Session, "transient_to_pending")
def _row_added(session: Session, instance: Any) -> None:
    _forget_cached(session, type(instance))
    _forget_primed_row(session, instance)


@event.listens_for(Session, "after_flush")
def _rows_written(session: Session, _context: Any) -> None:
    # pending rows a read without autoflush did not see are in the table now; deleted ones are not
    for instance in (*session.new, *session.deleted):
        _forget_cached(session, type(instance))
        _forget_primed_row(session, instance)


def _forget_cached(session: Session, model: type) -> None:
    cache = session.info.get(_CACHE)
    if not cache:
        return
    # by model, not by entry: a batch primes hundreds of keys, and every added row asks
    for cached in [m for m in cache if issubclass(model, m)]:
        del cache[cached]


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: Any) -> None:
    if state.is_select:
        return
    table = getattr(state.statement, "table", None)  # INSERT / UPDATE / DELETE name theirs
    if table is None:
        _forget(state.session)
        return
    cache = state.session.info.get(_CACHE) or {}
    name = getattr(table, "name", None)  # an ORM statement names an annotated copy of the table
    for cached in [m for m in cache if getattr(getattr(m, "__table__", None), "name", None) == name]:
        del cache[cached]
    primed = state.session.info.get(_PRIMED)
    for model in [m for m in primed or () if getattr(getattr(m, "__table__", None), "name", None) == name]:
        del primed[model]


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # a released savepoint's reads stay true in the transaction that goes on (the timer batch fires
    # each instance in one); a rolled back one's need not: see _rolled_back
    if transaction.parent is None:
        _forget(session)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: SessionTransaction) -> None:
    _forget(session)  # any rollback, a savepoint's too: what was read inside it may be undone


def prime_transaction_rows(model: type, rows_by_key: Mapping[Any, Iterable[Any]]) -> None:
    """Keep rows of ``model`` read for many keys in one statement (a batch about to step many cases)
    as ``transaction_rows`` would have read them key by key: each list must be exactly what that
    key's ``load()`` returns, in its order."""
    cache = db.session().info.setdefault(_CACHE, {}).setdefault(model, {})
    for key, rows in rows_by_key.items():
        cache[key] = list(rows)


# -- rows a batch read ahead for one later read each -------------------------------------------
# A timer batch steps a hundred instances; each step reads its instance's task and timer rows, and
# writes some (adds a task, deletes a fired timer). The transaction cache above forgets a whole
# model whenever a row of it is added, so it cannot hold them across the batch. These are kept
# instead per key, with the function that gives a row's key: adding, deleting or flushing a row
# forgets that row's key only; a bulk statement on the table, a rollback (a savepoint's too) and
# the end of the transaction forget them all. Each is taken once (``take_primed``): the step that
# reads them is the first reader, the way it would have read them itself, and any later read of
# the same key goes to the database as before.
_PRIMED = "caseflow_primed"


def prime_rows(model: type, key_of: Callable[[Any], Any], rows_by_key: Mapping[Any, Iterable[Any]]) -> None:
    """Keep the rows of ``model`` one statement read for many keys (``key_of(row)`` is a row's key;
    every key read must be present, with an empty list when it has no row) until ``take_primed``."""
    primed = db.session().info.setdefault(_PRIMED, {})
    entries = primed.setdefault(model, (key_of, {}))[1]
    for key, rows in rows_by_key.items():
        entries[key] = list(rows)


def take_primed(model: type, key: Any) -> list[Any] | None:
    """The rows of ``model`` primed for ``key`` (once; None: not primed, or forgotten since: read them)."""
    session = db.session()
    primed = session.info.get(_PRIMED)
    if not primed or model not in primed:
        return None
    key_of, entries = primed[model]
    if key not in entries:
        return None
    rows: list[Any] = entries.pop(key)
    if any(isinstance(obj, model) and key_of(obj) == key for obj in session.deleted):
        return None  # a row of it is being deleted: the read decides what it still finds
    return rows


def _forget_primed_row(session: Session, instance: Any) -> None:
    primed = session.info.get(_PRIMED)
    if not primed:
        return
    for model in [m for m in primed if isinstance(instance, m)]:
        key_of, entries = primed[model]
        entries.pop(key_of(instance), None)



class unit_of_work:  # lower case: used like the function it was, ``with unit_of_work():``
    """One transaction: commit when the block ends, roll back on any exception.

    Nested units join the outermost one; only the outermost commits. A class, not a generator: a
    unit entered in ``before_request`` and never closed (a request torn down by a dying database
    connection) is simply dropped, where an abandoned generator would run its ``finally`` during
    garbage collection in another thread's context, rolling back that thread's session.
    """

    def __enter__(self) -> Any:
        self._depth = _depth.get()
        self._token_depth = _depth.set(self._depth + 1)
        self._token_write = _write_intent.set(True)
        try:
            if self._depth == 0 and _in_read_only_transaction():
                db.session.rollback()  # a read transaction cannot be upgraded safely: start anew
        except BaseException:
            self._reset()
            raise
        return db.session

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 _tb: object) -> Literal[False]:
        try:
            if self._depth == 0:
                if exc_type is None:
                    db.session.commit()
                else:
                    db.session.rollback()
        except BaseException:
            if self._depth == 0 and exc_type is None:
                db.session.rollback()
            raise
        finally:
            self._reset()
        return False

    def _reset(self) -> None:
        _write_intent.reset(self._token_write)
        _depth.reset(self._token_depth)


def use_case(fn: Callable[..., T]) -> Callable[..., T]:
    """Run a use-case function as one unit of work."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with unit_of_work():
            return fn(*args, **kwargs)

    return wrapper


def write_changed_rows(rows: Iterable[Any]) -> None:
    """UPDATE the changed columns of persistent ``rows`` (of one model) with one ``executemany`` per
    set of changed columns, before the session's flush would write them one statement per row: the
    flush groups only neighbouring rows with the same changed columns (a batch's SLA targets
    alternate kinds) and never groups a model with a version column (an instance's ``lock_version``).
    The version check stays: each row's UPDATE is ``WHERE id = … AND <version> = <its version>``
    and sets the next version, and a row count short of the rows raises ``StaleDataError`` as the
    flush would. The rows are then as the flush leaves them (values committed, the new version);
    the flush that follows has nothing left to write for them."""
    from sqlalchemy import bindparam, inspect
    from sqlalchemy.orm import ColumnProperty, Mapper
    from sqlalchemy.orm.attributes import set_committed_value
    from sqlalchemy.orm.exc import StaleDataError

    groups: dict[tuple[type, tuple[str, ...]], list[tuple[Any, dict[str, Any]]]] = {}
    for row in rows:
        state = inspect(row)
        if not state.persistent or state.deleted:
            continue
        changed: dict[str, Any] = {}
        for prop in state.mapper.column_attrs:
            history = state.attrs[prop.key].history
            if history.added and list(history.added) != list(history.deleted):
                changed[prop.key] = history.added[0]
        if changed:
            groups.setdefault((type(row), tuple(sorted(changed))), []).append((row, changed))
    if not groups:
        return
    connection = db.session.connection()
    for (model, keys), members in groups.items():
        mapper: Mapper[Any] = inspect(model)
        table = cast(Table, mapper.local_table)
        [pk] = mapper.primary_key
        version = mapper.version_id_col
        prop_of = {key: mapper.get_property(key) for key in keys}
        if any(not isinstance(p, ColumnProperty) or len(p.columns) != 1 for p in prop_of.values()):
            continue  # not a plain column: left to the flush
        if any(c.onupdate is not None or c.server_onupdate is not None for c in table.columns):
            continue  # the flush adds what an UPDATE sets by itself: left to it
        column_of = {key: prop_of[key].columns[0] for key in keys}
        version_key = mapper.get_property_by_column(version).key if version is not None else None
        generate = mapper.version_id_generator
        if version_key in keys or (version is not None and not callable(generate)):
            continue  # a version set by hand, or by the database: left to the flush
        stmt = table.update().where(table.c[pk.name] == bindparam("w_pk"))
        values = {column_of[key].name: bindparam(f"w_{key}", type_=column_of[key].type) for key in keys}
        if version is not None:
            stmt = stmt.where(table.c[version.name] == bindparam("w_version"))
            values[version.name] = bindparam("w_next_version")
        params = []
        for row, changed in members:
            item = {"w_pk": getattr(row, mapper.get_property_by_column(pk).key),
                    **{f"w_{key}": value for key, value in changed.items()}}
            if version_key is not None and callable(generate):  # (always callable here: see above)
                item["w_version"] = getattr(row, version_key)
                item["w_next_version"] = generate(item["w_version"])
            params.append(item)
        result = connection.execute(stmt.values(values), params)
        if connection.dialect.supports_sane_multi_rowcount and result.rowcount != len(params):
            raise StaleDataError(f"UPDATE of {table.name} expected {len(params)} row(s), matched {result.rowcount}")
        for (row, changed), item in zip(members, params, strict=True):
            for key, value in changed.items():
                set_committed_value(row, key, value)
            if version_key is not None:
                set_committed_value(row, version_key, item["w_next_version"])
