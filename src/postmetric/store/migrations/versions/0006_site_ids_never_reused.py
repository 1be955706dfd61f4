"""Ids are never reused, and deleted sites are remembered.

On SQLite every table with an issued id becomes AUTOINCREMENT (rebuilt in batch mode, rows, indexes and
foreign keys kept; `migrate` turns foreign keys off meanwhile, so that dropping the old table does not
cascade): SQLite then remembers the largest id ever issued in `sqlite_sequence`, seeded here from the
rows copied. PostgreSQL's sequences never go back: nothing to change there.

Retention is bounded (30 days to 10 years, or forever): a longer one becomes forever.

`site_deletions` records each deleted site's id, so that what the event store still receives of it is
purged again (sites/purge.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Parents first: a child rebuilt later references the parent already rebuilt, under its own name.
ISSUED_ID_TABLES = ("users", "sites", "api_keys", "account_tokens", "web_sessions", "password_resets",
                    "site_invitations", "goals", "funnels")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in ISSUED_ID_TABLES:
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass
    # retention_days is now at most ten years: a longer one (nearly forever) becomes forever.
    op.execute("UPDATE sites SET retention_days = NULL WHERE retention_days > 3650")
    op.create_table(
        "site_deletions",
        sa.Column("site_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_site_deletions")),
    )


def downgrade() -> None:
    op.drop_table("site_deletions")
    if op.get_bind().dialect.name == "sqlite":
        for table in ISSUED_ID_TABLES:
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": False}):
                pass
