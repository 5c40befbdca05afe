"""Moneybird's rate limit: 150 requests per 5 minutes per token (fixed window that
starts with the first request), on the sandbox clock."""

import threading
from dataclasses import dataclass

from .clock import Clock


@dataclass
class RateLimitResult:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # Unix time the window ends

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)  # absolute epoch, as Moneybird does
        return headers


class RateLimiter:
    def __init__(
        self, clock: Clock, *, limit: int = 150, window: int = 300, enabled: bool = True
    ) -> None:
        self.clock = clock
        self.limit = limit
        self.window = window
        self.enabled = enabled
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # token -> (window start, count)

    def configure(self, *, enabled=None, limit=None, window=None) -> None:
        with self._lock:
            if enabled is not None:
                self.enabled = bool(enabled)
            if limit is not None:
                self.limit = int(limit)
            if window is not None:
                self.window = int(window)
            self._windows.clear()

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()

    def hit(self, token: str) -> RateLimitResult | None:
        """Count one request; None when the limit is switched off."""
        if not self.enabled:
            return None
        now = self.clock.now()
        with self._lock:
            start, count = self._windows.get(token, (now, 0))
            if now >= start + self.window:
                start, count = now, 0
            allowed = count < self.limit
            if allowed:
                count += 1
            self._windows[token] = (start, count)
        reset = int(start + self.window) + (0 if (start + self.window).is_integer() else 1)
        return RateLimitResult(allowed, self.limit, self.limit - count, reset)

    def state(self) -> dict:
        return {"enabled": self.enabled, "limit": self.limit, "window": self.window}
