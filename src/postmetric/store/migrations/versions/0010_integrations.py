"""Integrations (GitHub, X, Search Console) and the synced annotations they write.

Annotations gain the provider's id (`external_id`, unique per site and kind, so a re-sync updates
rather than doubles), an author and the provider's details. The annotations table is rebuilt on
SQLite to add the constraint: it stays AUTOINCREMENT, as 0006 made every table with an issued id.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("annotations", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("author", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("details", sa.JSON(), nullable=True))
        batch.create_unique_constraint(op.f("uq_annotations_site_id"), ["site_id", "kind", "external_id"])
    op.create_table(
        "integrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("token", sa.Text(), nullable=True),
        sa.Column("cursor", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=True),
        sa.Column("summary", sa.String(length=200), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"], name=op.f("fk_integrations_site_id_sites"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("site_id", "kind", name=op.f("uq_integrations_site_id")),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_integrations_site_id"), "integrations", ["site_id"], unique=False)


def downgrade() -> None:
    op.drop_table("integrations")
    with op.batch_alter_table("annotations", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint(op.f("uq_annotations_site_id"), type_="unique")
        batch.drop_column("details")
        batch.drop_column("author")
        batch.drop_column("external_id")
