"""Spend tickets: kind and units, the decision's reason, the executor's claim, the result.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("spend_tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=32), server_default="external", nullable=False)
        )
        batch_op.add_column(sa.Column("units", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("claim_token", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("execution", JSON, nullable=True))
        batch_op.create_index(batch_op.f("ix_spend_tickets_status"), ["status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spend_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spend_tickets_status"))
        for column in (
            "execution",
            "executed_at",
            "claimed_at",
            "claim_token",
            "claimed_by",
            "decision_reason",
            "units",
            "kind",
        ):
            batch_op.drop_column(column)
