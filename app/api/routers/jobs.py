"""GET and DELETE /jobs/{id}: progress, result and cancellation of long-running work."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from app.api.deps import JobsDep
from app.runtime.jobs import JobSnapshot

router = APIRouter(tags=["jobs"])

CANCEL_WAIT_SECONDS = 2.0  # how long DELETE waits for a running job to stop


@router.get("/jobs/{job_id}", response_model=JobSnapshot)
def get_job(jobs: JobsDep, job_id: str) -> JobSnapshot:
    """Report a job's status, progress, objective history and (once done) its result."""
    return jobs.get(job_id)


@router.delete("/jobs/{job_id}", response_model=JobSnapshot)
async def cancel_job(jobs: JobsDep, job_id: str) -> JobSnapshot:
    """Cancel a job; a running job stops at its next step (waited for briefly)."""
    job = await run_in_threadpool(jobs.cancel, job_id)
    if job.finished:
        return job
    return await run_in_threadpool(jobs.wait, job_id, CANCEL_WAIT_SECONDS)
