"""The app factory: `uvicorn app.main:create_app --factory` (gunicorn: `app.main:create_app()`).
What the app is made of is wired in app/api/main.py."""

from fastapi import FastAPI

from app.api.main import build_app
from app.core.config import Settings, get_settings


def create_app(settings: Settings | None = None) -> FastAPI:
    return build_app(settings or get_settings())
