"""The managed_role table: which read-only logins this tool created and manages.

Revision ID: 0001
Revises:
"""

from alembic import op

from exporter.database import sqlfiles
from exporter.database.connection import driver_connection

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sqlfiles.text("admin/managed_roles_table"))


def downgrade() -> None:
    if op.get_context().as_sql:
        op.execute(sqlfiles.text("admin/drop_roles"))
    else:  # run as is: the DO block's format() calls use % placeholders
        driver_connection(op.get_bind()).execute(sqlfiles.text("admin/drop_roles"))
