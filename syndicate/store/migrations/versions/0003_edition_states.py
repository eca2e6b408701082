"""editions: state (draft, approved, held, skipped) with who decided, when, why;
edition_stories.listed (overflow headlines)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 17:40:00
"""

import sqlalchemy as sa
from alembic import op

import syndicate.store.schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="ready")
        )
        batch_op.add_column(sa.Column("decided_by", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("decided_at", syndicate.store.schema.AwareDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
    with op.batch_alter_table("edition_stories", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("listed", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("edition_stories", schema=None) as batch_op:
        batch_op.drop_column("listed")
    with op.batch_alter_table("editions", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("state")
