"""an index that lets a patient-name search count its matches without reading each report

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_reports_patient_status', 'reports',
                    ['patient_id', 'status', 'posted_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_reports_patient_status', table_name='reports')
