"""The loop's scoring: the model backend and model id on a job; a governance decision may
belong to a job (`job_id`), and a job owned by no customer has none (`customer_id` null).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("model_backend", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("model_name", sa.String(length=255), nullable=True))
    with op.batch_alter_table("governance_decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("job_id", sa.String(length=36), nullable=True))
        batch_op.alter_column("customer_id", existing_type=sa.String(length=40), nullable=True)
        batch_op.create_index("ix_governance_decisions_job_id", ["job_id"], unique=False)
        batch_op.create_foreign_key(
            "fk_governance_decisions_job_id_jobs", "jobs", ["job_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("governance_decisions", schema=None) as batch_op:
        batch_op.drop_constraint("fk_governance_decisions_job_id_jobs", type_="foreignkey")
        batch_op.drop_index("ix_governance_decisions_job_id")
        batch_op.alter_column("customer_id", existing_type=sa.String(length=40), nullable=False)
        batch_op.drop_column("job_id")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("model_name")
        batch_op.drop_column("model_backend")
