"""The helpers every module takes service addresses from honour TEST_POSTGRES_URL and TEST_REDIS_URL."""

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent


def services_under(**environment):
    """Evaluate services.py helpers in a fresh interpreter with these variables set (they are read at import)."""

    def evaluate(expression):
        env = {**os.environ, **environment}
        code = f"import services; print({expression})"
        result = subprocess.run([sys.executable, "-c", code], cwd=TESTS, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    return evaluate


def test_ci_service_addresses_move_onto_the_test_servers():
    evaluate = services_under(
        TEST_POSTGRES_URL="postgres://tester:pw@db.internal:6543", TEST_REDIS_URL="redis://cache.internal:7000/0"
    )
    ci_postgres = "postgres://postgres@127.0.0.1:5432/test"
    assert evaluate(f"services.on_test_servers({ci_postgres!r})") == "postgres://tester:pw@db.internal:6543/test"
    assert evaluate("services.on_test_servers('redis://127.0.0.1:6379/3')") == "redis://cache.internal:7000/3"
    assert evaluate("services.postgres_database_url('x')") == "postgres://tester:pw@db.internal:6543/x"
    assert evaluate("services.redis_db_url(15)") == "redis://cache.internal:7000/15"
    assert evaluate("services.address(services.POSTGRES_URL)") == "('db.internal', 6543)"
