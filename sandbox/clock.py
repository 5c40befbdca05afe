"""The sandbox's controllable clock: real time plus an offset, or frozen."""

import threading
import time
from datetime import UTC, date, datetime


class Clock:
    """Every timestamp, `version` and rate-limit window in the sandbox reads this clock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen: float | None = None

    def now(self) -> float:
        with self._lock:
            return self._frozen if self._frozen is not None else time.time() + self._offset

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def today(self) -> date:
        return self.datetime().date()

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += seconds
            else:
                self._offset += seconds

    def set(self, epoch: float) -> None:
        """Jump to `epoch`; the clock keeps running from there unless frozen."""
        with self._lock:
            if self._frozen is not None:
                self._frozen = epoch
            else:
                self._offset = epoch - time.time()

    def freeze(self, frozen: bool) -> None:
        with self._lock:
            current = self._frozen if self._frozen is not None else time.time() + self._offset
            if frozen:
                self._frozen = current
            else:
                self._frozen = None
                self._offset = current - time.time()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
            self._frozen = None

    def state(self) -> dict:
        return {"now": self.now(), "frozen": self._frozen is not None}


def iso_timestamp(epoch: float) -> str:
    """Moneybird's timestamp form: `2026-02-12T10:43:45.289Z`."""
    dt = datetime.fromtimestamp(epoch, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"
