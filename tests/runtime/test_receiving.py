"""app/runtime/receiving.py: body bytes held at once, with a reserve for small bodies."""

from __future__ import annotations

from app.runtime.receiving import SMALL_BODY, ReceivingBudget

MIB = 1024 * 1024


def test_bodies_are_held_until_given_back():
    budget = ReceivingBudget(10 * MIB, reserve=0)
    assert budget.take(0, 4 * MIB) and budget.take(4 * MIB, 4 * MIB)
    assert budget.in_use() == 8 * MIB
    budget.give_back(8 * MIB)
    assert budget.in_use() == 0


def test_a_body_past_the_budget_is_refused_and_heard():
    refusals: list[str] = []
    budget = ReceivingBudget(10 * MIB, reserve=0, on_refusal=refusals.append)
    assert budget.take(0, 8 * MIB)
    assert not budget.take(0, 3 * MIB)
    assert budget.in_use() == 8 * MIB and refusals == ["receiving_budget"]


def test_large_bodies_leave_the_reserve_to_small_ones():
    budget = ReceivingBudget(10 * MIB, reserve=2 * MIB)
    assert budget.take(0, 8 * MIB)  # a large body fills all but the reserve
    assert not budget.take(0, 2 * MIB)  # a second large one does not fit
    assert budget.take(0, SMALL_BODY)  # a small one does
    assert budget.would_fit(SMALL_BODY // 2) and not budget.would_fit(2 * MIB)


def test_a_body_that_grows_past_small_counts_as_large_from_then_on():
    budget = ReceivingBudget(10 * MIB, reserve=2 * MIB)
    assert budget.take(0, 7 * MIB)
    assert budget.take(0, SMALL_BODY // 2)
    assert not budget.take(SMALL_BODY // 2, SMALL_BODY)  # now large: only the first 8 MiB
