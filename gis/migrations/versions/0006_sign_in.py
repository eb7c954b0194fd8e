"""Sign-in: failed attempts and lockout per account, when the password last changed, an email for single sign-on.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("failed_logins", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.add_column("app_user", sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("app_user", sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("app_user", sa.Column("email", sa.Text(), nullable=True))
    op.create_check_constraint(op.f("ck_app_user_failed_logins_non_negative"), "app_user", "failed_logins >= 0")
    # An identity provider's email names at most one user (gis.auth.oidc_actor), whatever its case.
    op.create_index("ix_app_user_email", "app_user", [sa.text("lower(email)")], unique=True)
    # Whatever the system user had, it signs in nowhere: it is the scripts' and data loads' name, not an account.
    op.execute("UPDATE app_user SET password_hash = NULL WHERE name = 'system'")


def downgrade() -> None:
    op.drop_index("ix_app_user_email", table_name="app_user")
    op.drop_constraint(op.f("ck_app_user_failed_logins_non_negative"), "app_user", type_="check")
    for column in ("email", "password_changed_at", "locked_until", "failed_logins"):
        op.drop_column("app_user", column)
