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


_connection_classes = {}


def connection_class_for(source):
    """One connection class per password source, made once: Django builds a wrapper for every request thread."""
    if source not in _connection_classes:
        _connection_classes[source] = type("Connection", (FreshPasswordConnection,), {"source": source})
    return _connection_classes[source]


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


class RecoveringPool(ConnectionPool):
    """psycopg_pool's ConnectionPool, quicker to recover from a database restart or failover."""

    def _add_connection(self, attempt, growing=False):
        return super()._add_connection(attempt or CappedBackoff(timeout=self.reconnect_timeout), growing)

    def _check_connection(self, conn):
        try:
            super()._check_connection(conn)
        except Exception:
            # A restart or failover kills every pooled connection at once. Left alone, a request would meet
            # them one after another, with the pool's back-off (0, 1, 2 s ...) between them, and run out of
            # DATABASE_POOL_TIMEOUT; checking every idle one now leaves it to wait only for a new connection.
            self.check()
            raise


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        # Django builds a plain ConnectionPool with no way to choose the class; the subclass adds behaviour
        # only, no state, so the unopened pool is switched to it before first use.
        if type(pool) is ConnectionPool:
            pool.__class__ = RecoveringPool
        return pool

    def __init__(self, settings_dict, *args, **kwargs):
        super().__init__(settings_dict, *args, **kwargs)
        self.connection_class = connection_class_for(password_source(settings_dict))
        pool = settings_dict["OPTIONS"].get("pool")
        if isinstance(pool, dict):
            # Checked as it leaves the pool: a connection killed by a restart or failover is replaced instead of
            # failing the request. Set here rather than in settings, so gunicorn's master never imports the pool.
            pool.setdefault("check", ConnectionPool.check_connection)
            if self.connection_class.source is not None:
                pool.setdefault("connection_class", self.connection_class)

    def get_connection_params(self):
        params = super().get_connection_params()
        if self.connection_class.source is not None:
            # Unpooled connections (creating the test database) connect with these parameters directly.
            params["password"] = self.connection_class.source.password()
        return params
