"""the escalation queue without the cases (issue 16, h16e): ``sla_targets.case_open``, kept by the
database (triggers) from the case's status, and the queue's index over the open cases' running
targets (bench/volume-explain.md)

Revision ID: 0021_h16e
Revises: 0020_h18v
Create Date: 2026-12-07 14:00:00

The queue counted its total by joining the running targets with the open cases (100,000 of each
at volume: the join was the time). A running target of a closed case is not in the queue, so the
flag says whether the case is open, in the target's row, and the database keeps it true in the
statement that changes either table — the same rows as the join, whoever writes the tables.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021_h16e'
down_revision = '0020_h18v'
branch_labels = None
depends_on = None

#: cases/sla/models.py CASE_OPEN_TRIGGERS, as of this revision
TRIGGERS = {
    "postgresql": (
        """CREATE FUNCTION sla_targets_case_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT status = 'open' INTO NEW.case_open FROM cases WHERE id = NEW.case_id FOR SHARE;
    NEW.case_open := coalesce(NEW.case_open, false);
    RETURN NEW;
END $$""",
        """CREATE TRIGGER sla_targets_case_open BEFORE INSERT OR UPDATE OF case_id, case_open ON sla_targets
FOR EACH ROW EXECUTE FUNCTION sla_targets_case_open()""",
        """CREATE FUNCTION cases_sla_targets_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE sla_targets SET case_open = (NEW.status = 'open')
     WHERE case_id = NEW.id AND case_open IS DISTINCT FROM (NEW.status = 'open');
    RETURN NULL;
END $$""",
        """CREATE TRIGGER cases_sla_targets_open AFTER UPDATE OF status ON cases
FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION cases_sla_targets_open()""",
    ),
    "sqlite": (
        """CREATE TRIGGER sla_targets_case_open AFTER INSERT ON sla_targets
BEGIN
    UPDATE sla_targets SET case_open = coalesce((SELECT status = 'open' FROM cases WHERE id = NEW.case_id), 0)
     WHERE id = NEW.id;
END""",
        """CREATE TRIGGER sla_targets_case_open_kept AFTER UPDATE OF case_id, case_open ON sla_targets
WHEN NEW.case_open IS NOT coalesce((SELECT status = 'open' FROM cases WHERE id = NEW.case_id), 0)
BEGIN
    UPDATE sla_targets SET case_open = coalesce((SELECT status = 'open' FROM cases WHERE id = NEW.case_id), 0)
     WHERE id = NEW.id;
END""",
        """CREATE TRIGGER cases_sla_targets_open AFTER UPDATE OF status ON cases
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE sla_targets SET case_open = (NEW.status = 'open') WHERE case_id = NEW.id;
END""",
    ),
}
DROP = {
    "postgresql": ("DROP TRIGGER cases_sla_targets_open ON cases", "DROP FUNCTION cases_sla_targets_open()",
                   "DROP TRIGGER sla_targets_case_open ON sla_targets", "DROP FUNCTION sla_targets_case_open()"),
    "sqlite": ("DROP TRIGGER cases_sla_targets_open", "DROP TRIGGER sla_targets_case_open_kept",
               "DROP TRIGGER sla_targets_case_open"),
}
OPEN_QUEUE = {"postgresql": "state = 'running' AND case_open", "sqlite": "state = 'running' AND case_open = 1"}
OLD_QUEUE = ["warning_at", "due_at", "breached_at", "case_id"]


def upgrade():
    dialect = op.get_bind().dialect.name
    op.add_column('sla_targets', sa.Column('case_open', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.execute(sa.text("UPDATE sla_targets SET case_open = :no WHERE case_id IN "
                       "(SELECT id FROM cases WHERE status <> 'open')").bindparams(no=False))
    op.drop_index('ix_sla_targets_running_queue', table_name='sla_targets')
    op.create_index('ix_sla_targets_open_queue', 'sla_targets', ['due_at', 'id', 'warning_at', 'breached_at'],
                    unique=False, postgresql_where=sa.text(OPEN_QUEUE['postgresql']),
                    sqlite_where=sa.text(OPEN_QUEUE['sqlite']))
    for statement in TRIGGERS.get(dialect, ()):
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in DROP.get(dialect, ()):
        op.execute(statement)
    op.drop_index('ix_sla_targets_open_queue', table_name='sla_targets')
    op.create_index('ix_sla_targets_running_queue', 'sla_targets', OLD_QUEUE, unique=False,
                    postgresql_where=sa.text("state = 'running'"), sqlite_where=sa.text("state = 'running'"))
    with op.batch_alter_table('sla_targets', schema=None) as batch_op:
        batch_op.drop_column('case_open')
