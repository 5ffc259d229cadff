"""role invitations: an offer of one role that waits for the invited person to accept;
PostgreSQL's audit guard per row, so deleting a user with no audit history works

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

import db.base

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

_ROLES = ("system_admin", "support_rep", "account_rep", "privacy_officer", "manager",
          "provider_group_admin", "provider_admin", "provider_staff", "account_admin",
          "account_user")


def upgrade() -> None:
    op.create_table('role_invitations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=True),
    sa.Column('provider_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('inviter_user_id', sa.Integer(), nullable=True),
    sa.Column('inviter_name', sa.String(length=200), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('resolved_at', db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'accepted', 'declined', 'cancelled')",
                       name=op.f('ck_role_invitations_status')),
    sa.CheckConstraint("role IN (" + ", ".join(f"'{r}'" for r in _ROLES) + ")",
                       name=op.f('ck_role_invitations_role')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                            name=op.f('fk_role_invitations_account_id_accounts')),
    sa.ForeignKeyConstraint(['group_id'], ['provider_groups.id'],
                            name=op.f('fk_role_invitations_group_id_provider_groups')),
    sa.ForeignKeyConstraint(['inviter_user_id'], ['users.id'],
                            name=op.f('fk_role_invitations_inviter_user_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'],
                            name=op.f('fk_role_invitations_provider_id_providers')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                            name=op.f('fk_role_invitations_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_role_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_role_invitations_token_hash'))
    )
    op.create_index('ix_role_invitations_status_email', 'role_invitations', ['status', 'email'],
                    unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # The statement-level guard also fired for the empty "SET actor_user_id = NULL" that
        # deleting any user runs through the foreign key, so no user could be deleted on
        # PostgreSQL. Per row it refuses every real change and lets the empty one pass
        # (SQLite's guards were per row already). TRUNCATE keeps its statement-level guard.
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
                   "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()")
        op.execute("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
                   "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                   "ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()")
    op.drop_index('ix_role_invitations_status_email', table_name='role_invitations')
    op.drop_table('role_invitations')
