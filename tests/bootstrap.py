"""Loaded first (`-p tests.bootstrap`), before Django reads its settings: picks what the suite runs on.

PostgreSQL and Redis on 127.0.0.1 are used when they answer and required when CI=true. Outside CI,
without them, the suite falls back to SQLite and the serverless filesystem broker, and says so.
Parallel runs on one machine keep apart with FLYWHEEL_TEST_DB_NAME and FLYWHEEL_TEST_REDIS_DB.
"""
import os
import socket
import sys
import tempfile


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def _pg_user() -> str:
    import psycopg

    for user in ("postgres", "root"):
        try:
            psycopg.connect(f"postgresql://{user}@127.0.0.1:5432/test", connect_timeout=2).close()
            return user
        except psycopg.OperationalError:
            continue
    raise SystemExit("PostgreSQL answers on 127.0.0.1:5432 but neither user postgres nor root can connect to 'test'.")


def _say(text: str) -> None:
    sys.stderr.write(f"[flywheel tests] {text}\n")


CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}
os.environ.setdefault("FLYWHEEL_DEV", "1")
os.environ.setdefault("FLYWHEEL_DATA_DIR", tempfile.mkdtemp(prefix="flywheel-test-"))
os.environ.setdefault("FLYWHEEL_TEST_DB_NAME", "test_flywheel")
pg_up, redis_up = _answers(5432), _answers(6379)
if CI and not (pg_up and redis_up):
    raise SystemExit("CI=true: PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are required and "
                     f"did not answer (postgres={pg_up}, redis={redis_up}).")
if "DATABASE_URL" not in os.environ:
    if pg_up:
        os.environ["DATABASE_URL"] = f"postgres://{_pg_user()}@127.0.0.1:5432/test"
    else:
        _say("PostgreSQL is not running: falling back to SQLite (not what CI uses).")
if "REDIS_URL" not in os.environ:
    if redis_up:
        os.environ["REDIS_URL"] = f"redis://127.0.0.1:6379/{os.environ.get('FLYWHEEL_TEST_REDIS_DB', '1')}"
    else:
        _say("Redis is not running: falling back to the serverless filesystem broker (not what CI uses).")
_say(f"database: {os.environ.get('DATABASE_URL', 'sqlite')}  broker: {os.environ.get('REDIS_URL', 'filesystem')}  "
     f"data dir: {os.environ['FLYWHEEL_DATA_DIR']}")


def require(reason: str) -> None:
    """A test whose tools are missing: skipped on a laptop, a failure under CI=true, so a CI run can never
    pass by not running the browser or fault tests."""
    import pytest

    if CI:
        pytest.fail(f"CI=true: {reason}", pytrace=False)
    pytest.skip(reason)
