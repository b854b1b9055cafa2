"""`make db`: create the PostgreSQL database DATABASE_URL names, connecting to the server's maintenance database."""

import os

import django
from django.db import connection


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    if connection.vendor != "postgresql":
        print(f"DATABASE_URL is not PostgreSQL ({connection.vendor}): nothing to create.")
        return
    name = connection.settings_dict["NAME"]
    # The database itself may not exist yet, so the connection goes to the server's "postgres" database.
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone():
            print(f"Database {name} exists.")
            return
        # CREATE DATABASE takes no parameters; the name is quoted as an identifier.
        cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    print(f"Created database {name}.")


if __name__ == "__main__":
    main()
