"""Migrations are the only way the schema is made: a fresh database migrated to head matches the models."""

import asyncio
import uuid

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from app.core import product
from app.models import Base
from tests.conftest import alembic_config, create_database, drop_database


def _diff(url: str) -> list:
    async def run() -> list:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda sync_conn: compare_metadata(
                        MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_head_on_fresh_db_matches_models_and_downgrade_works():
    name = f"{product.SLUG}_migr_{uuid.uuid4().hex[:10]}"
    url = create_database(name)
    try:
        cfg = alembic_config(url)
        command.upgrade(cfg, "head")
        assert _diff(url) == []
        command.downgrade(cfg, "base")
        assert len(_diff(url)) > 0  # the tables are gone again
        command.upgrade(cfg, "head")
        assert _diff(url) == []
    finally:
        drop_database(name)
