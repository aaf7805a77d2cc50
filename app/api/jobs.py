"""GET and DELETE /jobs/{id}: progress, result and cancellation of long-running work."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["jobs"])

CANCEL_WAIT_SECONDS = 2.0  # how long DELETE waits for a running job to stop


@router.get("/jobs/{job_id}")
def get_job(request: Request, job_id: str) -> dict[str, Any]:
    """Report a job's status, progress, objective history and (once done) its result."""
    return request.app.state.jobs.get(job_id).snapshot()


@router.delete("/jobs/{job_id}")
async def cancel_job(request: Request, job_id: str) -> dict[str, Any]:
    """Cancel a job; a running job stops at its next step (waited for briefly)."""
    job = request.app.state.jobs.cancel(job_id)
    await run_in_threadpool(job.wait, CANCEL_WAIT_SECONDS)
    return job.snapshot()
