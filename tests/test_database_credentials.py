"""The database password changes under the running app (RDS rotates the master secret): the app reads it for
every new connection, so it carries on without a restart. On a private PostgreSQL with password logins and
moto's Secrets Manager over HTTP, while real gunicorn with uvicorn workers serves a database page under load.
"""

import json
import time

import pytest
from project import DEFAULT, make_venv, manage, production_env, tool
from services import Load, PrivatePostgres, aws_env, moto_server, served_app, status_counts

MASTER_PASSWORD = "master-password-1"
APP_USER = "app_user"


@pytest.fixture(scope="module")
def postgres():
    with PrivatePostgres(password=MASTER_PASSWORD) as server:
        server.sql("CREATE DATABASE app")
        server.sql("CREATE ROLE rds_iam")  # as on RDS, where the app role must be granted it
        yield server


@pytest.fixture(scope="module")
def secrets():
    tool("moto_server")
    import boto3

    with moto_server() as endpoint:
        env = aws_env(endpoint)
        client = boto3.client(
            "secretsmanager",
            endpoint_url=endpoint,
            region_name=env["AWS_REGION"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        yield client, env


def create_secret(client, name, password):
    return client.create_secret(Name=name, SecretString=json.dumps({"username": "x", "password": password}))["ARN"]


@pytest.fixture(scope="module")
def app(generated, postgres, secrets, tmp_path_factory):
    client, aws = secrets
    project = generated(**DEFAULT)
    venv = make_venv(project, DEFAULT["python_version"])
    master_arn = create_secret(client, "master", MASTER_PASSWORD)
    # The migrate task: the master user, its password from the secret RDS manages, creating the app's role.
    migrate = production_env(
        project,
        **aws,
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{postgres.port}/app",
        DATABASE_SECRET_ARN=master_arn,
        DATABASE_APP_USER=APP_USER,
    )
    manage(project, venv, migrate, "migrate", "--noinput", "-v0")
    postgres.sql(f"ALTER ROLE {APP_USER} PASSWORD 'app-password-1'")
    app_arn = create_secret(client, "app", "app-password-1")
    web = production_env(
        project,
        **aws,
        DATABASE_URL=f"postgres://{APP_USER}@127.0.0.1:{postgres.port}/app",
        DATABASE_SECRET_ARN=app_arn,
        DATABASE_POOL_TIMEOUT="3",
    )
    log = tmp_path_factory.mktemp("credentials-app") / "app.log"
    with served_app(project, venv, web, log) as base:
        yield base, app_arn
    print("\nthe app's log, without successful requests:")
    print("\n".join(line for line in log.read_text().splitlines() if '" 200' not in line)[-4000:])


def test_migrate_gives_the_app_its_own_role_that_is_not_the_master(postgres, app):
    assert (
        postgres.sql(f"SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = '{APP_USER}'")
        == "f|f|f"
    )
    assert postgres.sql(f"SELECT pg_has_role('{APP_USER}', 'rds_iam', 'member')") == "t"
    rights = "SELECT, INSERT, UPDATE, DELETE"
    for right in rights.split(", "):
        assert postgres.sql(f"SELECT has_table_privilege('{APP_USER}', 'notes_note', '{right}')", "app") == "t"
    assert postgres.sql(f"SELECT has_database_privilege('{APP_USER}', 'app', 'CREATE')", "app") == "f"


def test_a_password_change_under_load_needs_no_restart(postgres, secrets, app):
    client, _ = secrets
    base, app_arn = app
    with Load(base, read_path="/notes/", readers=3, writers=0) as traffic:
        traffic.wait_for_requests(30)
        changed = time.monotonic()
        # A rotation: the role's password changes, then the secret; then every open connection goes away
        # (as on failover, or as the pool recycles them), so the next ones must log in with the new password.
        postgres.sql(f"ALTER ROLE {APP_USER} PASSWORD 'app-password-2'")
        client.put_secret_value(SecretId=app_arn, SecretString=json.dumps({"password": "app-password-2"}))
        postgres.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{APP_USER}'")
        terminated = time.monotonic()
        traffic.wait_for_requests(30)
        time.sleep(3)
        traffic.wait_for_requests(30)
    during = traffic.between(changed)
    errors = [record for record in during if record[3] != 200]
    print(f"\nafter the password change: {len(during)} requests, statuses {status_counts(during)}")
    print(f"errors during the change: {len(errors)}")
    # Connections opened after the change logged in as the app's role, with the new password.
    assert int(postgres.sql(f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{APP_USER}'")) >= 1
    assert {status for *_, status in traffic.between(terminated + 3)} == {200}
    assert not [record for record in during if record[3] in (0, 500)]
