"""The yardstick for POST /evaluate: the smallest honest FastAPI service doing the same
kind of work (a pydantic-validated body, one INSERT through an async psycopg pool, a JSON
answer). `bench/evaluate_load.py` runs it beside the real app on the same server.

    REFERENCE_DATABASE_URL=postgresql://... uvicorn bench.reference_app:app --workers 2
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel

TABLE = "CREATE TABLE IF NOT EXISTS decisions (id uuid PRIMARY KEY, summary text, body jsonb)"
pool = AsyncConnectionPool(os.environ.get("REFERENCE_DATABASE_URL", ""), min_size=16, open=False)


class Proposal(BaseModel):
    proposal_summary: str = "API evaluation"
    estimated_impact: str = "medium"
    risk_baseline: float = 0.0
    risk_proposed: float = 0.0
    profit_baseline: float = 0.0
    profit_proposed: float = 0.0
    complexity_score: float = 0.5
    quality_score: float = 0.7


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    await pool.open()
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


@app.post("/evaluate")
async def evaluate(proposal: Proposal) -> dict[str, object]:
    decision_id = uuid.uuid4()
    async with pool.connection() as conn:
        await conn.execute(
            "INSERT INTO decisions (id, summary, body) VALUES (%s, %s, %s)",
            (decision_id, proposal.proposal_summary, Jsonb(proposal.model_dump())),
        )
    proceed = proposal.risk_proposed < 0.5
    return {"decision_id": str(decision_id), "status": "proceed" if proceed else "halt"}
