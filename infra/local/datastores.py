"""PostgreSQL and Redis for the stack: use the ones given (or the machine's) when they answer,
create the database when it is missing, migrate it; drop a throwaway one afterwards."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from infra.local.polling import tcp_open
from infra.local.services import BACKEND_DIR, PG_BIN, VENV_BIN, as_postgres_user
from infra.product import PRODUCT

DEFAULT_DATABASE_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PRODUCT.slug}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    return tcp_open(parts.hostname or "127.0.0.1", parts.port or default_port)


def url_with_db(url: str, dbname: str) -> str:
    return urlsplit(url)._replace(path="/" + dbname).geturl()


def psql_url(url: str) -> str:
    """The libpq form of a SQLAlchemy URL (psql and pg tools do not know '+asyncpg')."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def _psql(url: str, sql: str) -> str:
    admin = psql_url(url_with_db(url, "postgres"))
    return subprocess.run(["psql", admin, "-v", "ON_ERROR_STOP=1", "-tAc", sql], capture_output=True, text=True,
                          check=True, timeout=60).stdout.strip()


def ensure_database(url: str) -> None:
    """Create the database named in `url` when it does not exist yet (idempotent)."""
    dbname = urlsplit(url).path.lstrip("/") or PRODUCT.slug
    if _psql(url, f"SELECT 1 FROM pg_database WHERE datname = '{dbname}'") != "1":
        _psql(url, f'CREATE DATABASE "{dbname}"')


def try_ensure_database(url: str) -> bool:
    try:
        ensure_database(url)
        return True
    except subprocess.CalledProcessError:
        return False


def drop_database(url: str) -> None:
    dbname = urlsplit(url).path.lstrip("/")
    _psql(url, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def migrate(env: dict[str, str]) -> None:
    """alembic upgrade head with the backend's environment (DATABASE_URL)."""
    subprocess.run([str(VENV_BIN / "alembic"), "upgrade", "head"], cwd=BACKEND_DIR, check=True,
                   env=env, capture_output=True, timeout=180)


def init_postgres(pgdata: Path) -> None:
    """initdb a project-local cluster once (as the postgres user when we are root)."""
    if (pgdata / "PG_VERSION").exists():
        return
    pgdata.mkdir(parents=True, exist_ok=True)
    if as_postgres_user([]):
        shutil.chown(pgdata, "postgres", "postgres")
    subprocess.run(as_postgres_user([str(PG_BIN / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust",
                                     "-E", "UTF8"]), check=True, capture_output=True, timeout=120)
