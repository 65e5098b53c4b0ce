"""Liveness of the process (the governance API's `/health` lives with the gates)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/livez")
def livez() -> dict[str, str]:
    """The process answers; says nothing about subsystems."""
    return {"status": "ok"}
