"""reactivations: an operator's reason for bringing an address back; an index on
deliveries.subscriber_id for one person's export and erasure

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:12:40.118204
"""

import sqlalchemy as sa
from alembic import op

import syndicate.store.schema


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reactivations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("subscriber_id", sa.String(length=16), nullable=False),
        sa.Column("was", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("since", syndicate.store.schema.AwareDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("done_by", sa.String(length=200), nullable=False),
        sa.Column("at", syndicate.store.schema.AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reactivations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reactivations_subscriber_id"), ["subscriber_id"], unique=False
        )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_subscriber", ["subscriber_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_subscriber")
    with op.batch_alter_table("reactivations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reactivations_subscriber_id"))
    op.drop_table("reactivations")
