"""Sealed secrets: room in `revenue_providers.webhook_secret` for a secret sealed with AES-GCM.

A sealed secret (`secrets_box.py`) is about 1.6 times as long as the plain one, so the column grows
from 255 to 2048 characters. The migration does not encrypt the secrets already stored: the key
is the app's (POSTMETRIC_SECRET_KEY, or the generated one in the data dir), which migrations do not
see. The app seals them at its next start (`seal_stored_secrets`); until then a value without the
`pmenc:` prefix reads as legacy plaintext.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("revenue_providers") as batch:
        batch.alter_column("webhook_secret", type_=sa.String(length=2048), existing_type=sa.String(length=255),
                           existing_nullable=True)


def downgrade() -> None:
    # Sealed secrets do not fit back into 255 characters: set them again after a downgrade.
    op.execute("UPDATE revenue_providers SET webhook_secret = NULL WHERE length(webhook_secret) > 255")
    with op.batch_alter_table("revenue_providers") as batch:
        batch.alter_column("webhook_secret", type_=sa.String(length=255), existing_type=sa.String(length=2048),
                           existing_nullable=True)
