"""report files encrypted at rest: no schema change

Each file's wrapped data key and master key id live in the file's own header, not in the
database (docs/security.md, "Report files encrypted at rest"): this revision keeps its place in
the order and changes nothing.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import db.base  # noqa: F401

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
