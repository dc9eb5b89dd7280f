"""reading at volume (issue 16): a trigram index for the case search (PostgreSQL), and the indexes
the escalation queue's count and the quarter's KPIs asked for (bench/volume-explain.md)

Revision ID: 0019_h16v
Revises: 0019_h18p
Create Date: 2026-12-07 08:00:00

The trigram index needs the ``pg_trgm`` extension: created here when it is missing (in the
``public`` schema when there is one, so that a schema dropped later does not take it along). It is
a *trusted* extension (PostgreSQL 13 and later): the database's owner, or a role with CREATE on the
database, may create it without being a superuser; otherwise a superuser runs
``CREATE EXTENSION pg_trgm`` once before the upgrade (docs/operations.md "Database settings").
The downgrade drops the indexes, not the extension (something else may use it).
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0019_h16v'
down_revision = '0019_h18p'
branch_labels = None
depends_on = None

#: the case search's columns joined by spaces: cases/casework/queries.py search_text_expression()
#: spells the same expression (it must, for the planner to use the index)
SEARCH_COLUMNS = ("number", "title", "description", "environment", "contact_name", "contact_phone", "contact_email")
SEARCH_TEXT = " || ' ' || ".join(f"coalesce({c}, '')" for c in SEARCH_COLUMNS)


def _trgm_schema(bind) -> str:
    """The schema pg_trgm's operator classes are in, creating the extension when it is missing."""
    def where() -> str | None:
        return bind.scalar(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
                                   "WHERE e.extname = 'pg_trgm'"))
    schema = where()
    if schema is None:
        public = bind.scalar(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = 'public'"))
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm" + (" WITH SCHEMA public" if public else ""))
        schema = where()
    return schema


#: the partial indexes' predicates (cases/core/models.py spells the same)
TASKS_POOLED = "state = 'open' AND assignee_id IS NULL"
EVENTS_CONFIRMATION = ("(kind = 'task_completed' AND (data ->> 'element') = 'confirm') OR "
                       "(kind = 'timer_fired' AND (data ->> 'element') = 'confirm_timeout')")
EVENTS_SELF_SERVICE = "kind = 'self_service'"
EVENTS_RATING = ("(kind = 'task_completed' AND (data ->> 'element') IN ('callback', 'follow_up_call_1', "
                 "'follow_up_call_3', 'follow_up_call_6', 'follow_up_call_12')) OR kind = 'survey_answered'")
#: (table, name, columns, predicate)
PARTIAL = (
    ("cases", "ix_cases_open", ["id"], "status = 'open'"),
    ("tasks", "ix_tasks_open_pooled", ["lane", "created_at", "id", "case_id"], TASKS_POOLED),
    ("case_events", "ix_case_events_confirmations", ["case_id"], EVENTS_CONFIRMATION),
    ("case_events", "ix_case_events_self_service", ["case_id"], EVENTS_SELF_SERVICE),
    ("case_events", "ix_case_events_ratings", ["at"], EVENTS_RATING),
    ("sla_targets", "ix_sla_targets_running_queue", ["warning_at", "due_at", "breached_at", "case_id"],
     "state = 'running'"),
    ("sla_targets", "ix_sla_targets_first_response", ["case_id", "state", "breached_at", "due_at", "elapsed_seconds"],
     "kind = 'first_response' AND cycle = 1"),
    ("sla_targets", "ix_sla_targets_first_resolution", ["case_id", "state", "breached_at", "due_at"],
     "kind = 'resolution' AND cycle = 1"),
)
#: (table, name, columns): the KPIs' cohorts and backlog from the index alone
PLAIN = (("cases", "ix_cases_cohort", ["created_at", "kind", "id", "customer_id", "owner_id", "status", "closed_at"]),)


#: PostgreSQL only (SQLite has no ``#>>``; the models do not declare them): the confirmation's
#: answers by outcome — the JSON boolean's text (cases/kpis/report.py ``_answer_is``)
ANSWERED = "kind = 'task_completed' AND (data ->> 'element') = 'confirm'"
POSTGRESQL_PARTIAL = (
    ("case_events", "ix_case_events_confirmed", ["case_id"],
     f"({ANSWERED} AND (data #>> '{{data,confirmed}}') = 'true') OR "
     "(kind = 'timer_fired' AND (data ->> 'element') = 'confirm_timeout')"),
    ("case_events", "ix_case_events_rejected", ["case_id"], f"{ANSWERED} AND (data #>> '{{data,confirmed}}') = 'false'"),
)


def upgrade():
    bind = op.get_bind()
    for table, name, columns in PLAIN:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)
    for table, name, columns, where in PARTIAL:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False, postgresql_where=sa.text(where),
                                  sqlite_where=sa.text(where))
    if bind.dialect.name == "postgresql":
        schema = _trgm_schema(bind).replace('"', '""')
        op.execute(f'CREATE INDEX ix_cases_search_trgm ON cases USING gin (({SEARCH_TEXT}) "{schema}".gin_trgm_ops)')
        for table, name, columns, where in POSTGRESQL_PARTIAL:
            op.create_index(name, table, columns, unique=False, postgresql_where=sa.text(where))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, name, _columns, _where in reversed(POSTGRESQL_PARTIAL):
            op.drop_index(name, table_name=table)
        op.execute("DROP INDEX ix_cases_search_trgm")
    for table, name, _columns, _where in reversed(PARTIAL):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
    for table, name, _columns in PLAIN:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
