from typing import Literal

from pydantic import BaseModel


class PlanOut(BaseModel):
    plan: Literal["free", "pro"]


class UpgradeIn(BaseModel):
    plan: Literal["pro"]
