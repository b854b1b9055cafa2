"""Django's PostgreSQL backend, with the password fetched for every new connection.

RDS rotates the master secret and IAM auth tokens last 15 minutes, so a password read once at start-up breaks
the first connection opened after a change. DATABASES["default"]["CREDENTIALS"] (config/settings.py) picks the
source; without one the backend is Django's own.
"""

from django.db.backends.postgresql import base
from psycopg import Connection, OperationalError

from config.credentials import password_source


class FreshPasswordConnection(Connection):
    """A psycopg connection that asks for a fresh password once when the server rejects the one it was given."""

    source = None

    @classmethod
    def connect(cls, conninfo="", **kwargs):
        if cls.source is None:
            return super().connect(conninfo, **kwargs)
        try:
            return super().connect(conninfo, **{**kwargs, "password": cls.source.password()})
        except OperationalError as error:
            if "password authentication failed" not in str(error) and "PAM authentication failed" not in str(error):
                raise
            return super().connect(conninfo, **{**kwargs, "password": cls.source.password(refresh=True)})


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, settings_dict, *args, **kwargs):
        super().__init__(settings_dict, *args, **kwargs)
        source = password_source(settings_dict)
        # One connection class per source, used both by the pool and by unpooled connections.
        self.connection_class = type("Connection", (FreshPasswordConnection,), {"source": source})
        if source is not None and isinstance(settings_dict["OPTIONS"].get("pool"), dict):
            settings_dict["OPTIONS"]["pool"].setdefault("connection_class", self.connection_class)

    def get_connection_params(self):
        params = super().get_connection_params()
        if self.connection_class.source is not None:
            # Unpooled connections (creating the test database) connect with these parameters directly.
            params["password"] = self.connection_class.source.password()
        return params
