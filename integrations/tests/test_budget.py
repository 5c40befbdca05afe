"""The per-connection request budget, shared by several processes through real Redis."""

import multiprocessing
import time
import uuid

import pytest

from integrations.providers.base import BudgetExhausted
from integrations.providers.budget import RequestBudget

from . import budget_worker


@pytest.fixture
def budget():
    budget = RequestBudget(uuid.uuid4().hex, limit=3, window=300, prefix="test:budget")
    yield budget
    budget.clear()


def test_slots_run_out_and_report_when_one_frees_up(budget):
    started = time.time()
    assert [budget.try_acquire() for _ in range(3)] == [None, None, None]
    retry_at = budget.try_acquire()
    assert started + 300 + budget.margin - 1 <= retry_at <= time.time() + 300 + budget.margin
    with pytest.raises(BudgetExhausted) as error:
        budget.acquire(max_wait=1)
    assert error.value.retry_at == retry_at


def test_a_slot_frees_up_only_a_margin_after_the_window():
    """Moneybird counts a request when it arrives, later than we sent it: the slot must
    stay taken for `window + margin`, or a slow first request lets a 151st through."""
    budget = RequestBudget(uuid.uuid4().hex, limit=1, window=0.2, margin=0.3, prefix="test:budget")
    try:
        before = time.time()
        assert budget.try_acquire() is None
        retry_at = budget.try_acquire()
        after = time.time()
        assert before + 0.45 <= retry_at <= after + 0.55
        time.sleep(max(0.0, before + 0.25 - time.time()))  # past the bare window
        assert budget.try_acquire() is not None  # still taken: the margin holds it
    finally:
        budget.clear()


def test_a_pause_stops_everyone_and_keeps_the_later_time(budget):
    later = float(int(time.time()) + 60)
    assert budget.pause_until(later) == later
    assert budget.pause_until(later - 30) == later
    assert budget.try_acquire() == later


def test_a_short_pause_is_waited_out_within_max_wait(budget):
    resume = time.time() + 0.3
    budget.pause_until(resume)
    budget.acquire(max_wait=2)
    assert time.time() >= resume


def test_several_processes_together_stay_within_150_per_5_minutes(sandbox):
    """Four processes, 50 calls each, one connection: exactly 150 reach Moneybird and
    none gets a 429 from the (enabled) rate limit; the other 50 are refused locally."""
    sandbox.control.rate_limit(enabled=True, limit=150, window=300)
    key = uuid.uuid4().hex
    args = (sandbox.api_url, sandbox.administration_id, sandbox.token, key, 50)
    context = multiprocessing.get_context("spawn")
    try:
        with context.Pool(4) as pool:
            results = pool.starmap(budget_worker.run, [args] * 4)
    finally:
        RequestBudget(key, prefix="test:budget").clear()
    assert sum(sent for sent, _ in results) == 150
    assert sum(refused for _, refused in results) == 50
    assert sum(1 for sent, _ in results if sent) >= 2  # the processes really shared the work
    statuses = [status for _, _, status in sandbox.control.calls()]
    assert statuses == [200] * 150
