"""Long-running work as jobs, described by data so that any replica can run them.

A job is a `JobSpec` (kind, model name and version, JSON parameters); a `JobStore` holds the
queue and every job's state (in this process, `MemoryJobStore`, or shared by replicas through
Redis, `RedisJobStore`); each replica's `JobRunner` takes queued jobs, rebuilds their work from
the kind's registry entry and runs it under a lease that it renews while the job runs."""

from app.runtime.jobs.kinds import JobCancelledError, JobKind, JobProgress
from app.runtime.jobs.memory import MemoryJobStore
from app.runtime.jobs.records import JobLimits, JobSnapshot, JobSpec
from app.runtime.jobs.runner import JobRunner
from app.runtime.jobs.store import JobStore

__all__ = [
    "JobCancelledError",
    "JobKind",
    "JobLimits",
    "JobProgress",
    "JobRunner",
    "JobSnapshot",
    "JobSpec",
    "JobStore",
    "MemoryJobStore",
]
