"""DATABASE_APP_USER: the login role web, worker and lambda use, created and granted by the migrate task.

The migrate task runs as the master user (DATABASE_SECRET_ARN); the app runs as this role, which can read and
write the app's tables but not change the schema or other roles. On RDS it is granted rds_iam, so it logs in
with IAM auth tokens (DATABASE_IAM_AUTH) and has no password to rotate. Runs after every `migrate`, so tables
added later are covered, and it is safe to repeat.
"""

import logging

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


def ensure_app_role(using="default", **kwargs):
    role = settings.DATABASE_APP_USER
    connection = connections[using]
    if not role or connection.vendor != "postgresql" or role == connection.settings_dict["USER"]:
        return
    name = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            cursor.execute(f"CREATE ROLE {name} LOGIN")
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'")
        if cursor.fetchone() is not None:
            cursor.execute(f"GRANT rds_iam TO {name}")
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = (connection.ops.quote_name(value) for value in cursor.fetchone())
        for statement in (
            f"GRANT CONNECT ON DATABASE {database} TO {name}",
            f"GRANT USAGE ON SCHEMA {schema} TO {name}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {name}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {name}",
        ):
            cursor.execute(statement)
    logger.info("database role %s can use the application's tables", role)
