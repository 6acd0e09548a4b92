"""Start-up's objects are frozen out of the garbage collector's walks once the app is ready
(app/core/gc_freeze.py), and requests still work and are collected as usual afterwards."""

from __future__ import annotations

import gc

from tests.conftest import signup


async def test_start_up_objects_are_frozen_once_the_app_is_ready(make_client, settings):
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        client = await make_client.client(settings.model_copy(update={"GC_FREEZE_AFTER_STARTUP": True}))
        frozen = gc.get_freeze_count()
        assert frozen > 10_000, frozen  # modules, routes, models, the SDKs: tens of thousands of objects
        user = await signup(client, email="gc@example.com")
        response = await client.get("/api/projects", headers={"Authorization": f"Bearer {user['token']}"})
        assert response.status_code == 200
        # what requests allocate is not frozen: the permanent generation did not grow
        assert gc.get_freeze_count() <= frozen  # (refcounting still frees frozen objects that die)
    finally:
        gc.unfreeze()


async def test_off_freezes_nothing(make_client, settings):
    gc.unfreeze()
    await make_client.client(settings)  # the test settings turn it off
    assert gc.get_freeze_count() == 0
