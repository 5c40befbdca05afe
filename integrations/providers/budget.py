"""A request budget per connection, shared by every worker process through Redis.

Moneybird allows 150 requests per 5 minutes. Every request first takes a slot from a
sliding-window log (a sorted set of send times, Redis's own clock): at most `limit`
slots in any `window` + `margin` seconds, so no alignment of the provider's window can
see more. The margin covers latency: a slot is taken when a request is sent, but
Moneybird counts it when it arrives, and a window that its first (slow) request opened
late would otherwise still be open when our slot frees up.
A 429 anywhere pauses the connection for everyone until its `Retry-After`. Both are
single Lua scripts, so concurrent workers never check-then-act.

`acquire()` never waits long: by default it raises `BudgetExhausted` with `retry_at`
for the caller to schedule a Celery retry; `max_wait` allows a short, bounded sleep
(for the synchronous demo and tests) when the slot frees up within that many seconds.
"""

import hashlib
import math
import time
import uuid

from django_redis import get_redis_connection

from .base import BudgetExhausted

# Times are integer milliseconds (Redis's own clock), exact in Lua and Redis replies.
ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if pause > now then return {0, pause} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window + 1000)
return {1, now}
"""
PAUSE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = tonumber(ARGV[1])
if at > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PXAT', at)
  return at
end
return current
"""


def connection_key(base_url: str, administration_id: str) -> str:
    """A stable, credential-free key for one provider connection."""
    return hashlib.sha256(f"{base_url}|{administration_id}".encode()).hexdigest()[:24]


class RequestBudget:
    def __init__(
        self,
        key: str,
        *,
        limit: int = 150,
        window: float = 300.0,
        margin: float = 2.0,
        prefix: str = "integrations:budget",
        redis=None,
    ) -> None:
        self.limit = limit
        self.window = window
        self.margin = margin
        self._log_key = f"{prefix}:{key}:log"
        self._pause_key = f"{prefix}:{key}:pause"
        self._redis = redis or get_redis_connection("default")
        self._acquire = self._redis.register_script(ACQUIRE)
        self._pause = self._redis.register_script(PAUSE)

    def __repr__(self) -> str:
        return f"RequestBudget({self.limit}/{self.window}s)"

    def try_acquire(self) -> float | None:
        """Take a slot: None on success, else the Unix time a slot may free up."""
        ok, value = self._acquire(
            keys=[self._log_key, self._pause_key],
            args=[self.limit, math.ceil((self.window + self.margin) * 1000), uuid.uuid4().hex],
        )
        return None if int(ok) == 1 else int(value) / 1000

    def acquire(self, *, max_wait: float = 0.0) -> None:
        deadline = time.time() + max_wait
        while True:
            retry_at = self.try_acquire()
            if retry_at is None:
                return
            if retry_at > deadline:
                raise BudgetExhausted("Request budget exhausted", retry_at=retry_at)
            time.sleep(max(0.0, retry_at - time.time()) + 0.01)

    def pause_until(self, retry_at: float) -> float:
        """Stop every worker until `retry_at` (keeps the later of two pauses)."""
        at_ms = math.ceil(retry_at * 1000)
        return int(self._pause(keys=[self._pause_key], args=[at_ms])) / 1000

    def clear(self) -> None:
        self._redis.delete(self._log_key, self._pause_key)
