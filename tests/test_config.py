"""Settings that this module's features add: impossible values are refused at start-up."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.config import Settings


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("redis_url", "http://redis:6379"),
        ("default_explain_method", "no_such_method"),
        ("role", "trainer"),
        ("job_lease_seconds", 0.1),
        ("job_retries", -1),
        ("max_finished_jobs", 0),
        ("max_finished_job_bytes", 10),
    ],
)
def test_impossible_job_and_role_settings_are_refused(field, value):
    with pytest.raises(ValidationError, match=field):
        Settings(**{field: value})


def test_the_job_limits_carry_every_job_setting():
    limits = Settings(
        max_running_jobs=3,
        max_queued_jobs=4,
        job_ttl_seconds=5,
        job_lease_seconds=6,
        job_retries=2,
        max_finished_jobs=7,
        max_finished_job_bytes=8192,
    ).job_limits
    assert (limits.max_running, limits.max_queued, limits.ttl, limits.lease) == (3, 4, 5, 6)
    assert (limits.retries, limits.max_finished, limits.max_finished_bytes) == (2, 7, 8192)
