"""Django's PostgreSQL backend, with the password fetched for every new connection.

RDS rotates the master secret and IAM auth tokens last 15 minutes, so a password read once at start-up breaks
the first connection opened after a change. DATABASES["default"]["CREDENTIALS"] (config/settings.py) picks the
source; without one the backend is Django's own.
"""

import logging

from django.db.backends.postgresql import base
from psycopg import Connection, OperationalError
from psycopg_pool import ConnectionPool
from psycopg_pool.base import AttemptWithBackoff

from config.credentials import password_source

logger = logging.getLogger(__name__)


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
            logger.warning("the database rejected the password: reading it again")
            return super().connect(conninfo, **{**kwargs, "password": cls.source.password(refresh=True)})


class CappedBackoff(AttemptWithBackoff):
    """psycopg_pool's reconnection back-off, with the delay between attempts capped.

    Uncapped, the delay doubles for as long as the database is away (1, 2, 4 ... 32 s), so after a 70 s outage
    the next attempt can come half a minute after the database is back. Capped, the pool is back within about
    MAX_DELAY seconds of the database, however long the outage was.
    """

    MAX_DELAY = 1.0

    def update_delay(self, now):
        super().update_delay(now)
        self.delay = min(self.delay, self.MAX_DELAY)


class CappedBackoffPool(ConnectionPool):
    def _add_connection(self, attempt, growing=False):
        return super()._add_connection(attempt or CappedBackoff(timeout=self.reconnect_timeout), growing)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        # Django builds a plain ConnectionPool with no way to choose the class; the subclass adds behaviour
        # only, no state, so the unopened pool is switched to it before first use.
        if type(pool) is ConnectionPool:
            pool.__class__ = CappedBackoffPool
        return pool

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
