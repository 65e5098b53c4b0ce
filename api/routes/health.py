"""Liveness of the process (the governance API's `/health` lives with the gates)."""

from __future__ import annotations

from fastapi import APIRouter

from api.openapi import errors, ok
from api.schemas import Liveness

router = APIRouter(tags=["health"])


@router.get("/livez", response_model=None, responses={200: ok(Liveness), **errors()})
def livez() -> dict[str, str]:
    """The process answers; says nothing about subsystems."""
    return {"status": "ok"}
