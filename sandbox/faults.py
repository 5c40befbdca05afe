"""Fault plans: what the sandbox does wrong, for which requests, how often.

A fault matches a request by method (`*` for any) and a glob on the request path
without its `.json` suffix (e.g. `*/contacts`, `*/sales_invoices/*/send_invoice`).
It fires for the next `times` matching requests, or with `probability` (seeded, so
runs repeat), and then stays in the plan as spent.

Kinds:
- `rate_limit`: 429 `Retry later`, with `Retry-After` in the form `retry_after_form`
  (`epoch` as Moneybird sends it, `seconds`, `http_date`, `missing`), `retry_after`
  seconds ahead.
- `error`: a bare `status` (500, 502, 503).
- `slow`: wait `delay` seconds, then answer normally (past the client's read timeout).
- `drop`: close the connection without an answer; nothing is written.
- `commit_then_fail`: do the request (the write happens), then lose the answer: drop
  the connection, or answer `status` if given.
"""

import fnmatch
import itertools
import random
import threading
from dataclasses import asdict, dataclass, field

KINDS = {"rate_limit", "error", "slow", "drop", "commit_then_fail"}
RETRY_AFTER_FORMS = {"epoch", "seconds", "http_date", "missing"}


class FaultSpecError(ValueError):
    pass


@dataclass
class Fault:
    id: int
    kind: str
    method: str = "*"
    path: str = "*"
    times: int | None = 1
    probability: float | None = None
    seed: int | None = None
    status: int | None = None
    delay: float = 0.0
    retry_after: float = 2.0
    retry_after_form: str = "epoch"
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method)) and fnmatch.fnmatchcase(path, self.path)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("_rng")
        return data


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: dict) -> Fault:
        kind = spec.get("kind")
        if kind not in KINDS:
            raise FaultSpecError(f"kind must be one of {sorted(KINDS)}")
        allowed = set(Fault.__dataclass_fields__) - {"id", "fired", "_rng"}
        unknown = set(spec) - allowed
        if unknown:
            raise FaultSpecError(f"unknown fields: {sorted(unknown)}")
        fault = Fault(id=next(self._ids), **spec)
        fault.method = fault.method.upper()
        if fault.probability is not None:
            if not 0 <= float(fault.probability) <= 1:
                raise FaultSpecError("probability must be between 0 and 1")
            fault.times = spec.get("times")  # None: unlimited
            fault._rng = random.Random(fault.seed)
        if fault.times is not None and int(fault.times) < 1:
            raise FaultSpecError("times must be at least 1")
        if kind == "error" and fault.status not in (500, 502, 503, 504):
            raise FaultSpecError("an error fault needs status 500, 502, 503 or 504")
        if kind == "rate_limit" and fault.retry_after_form not in RETRY_AFTER_FORMS:
            raise FaultSpecError(f"retry_after_form must be one of {sorted(RETRY_AFTER_FORMS)}")
        if kind == "slow" and float(fault.delay) <= 0:
            raise FaultSpecError("a slow fault needs a positive delay")
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first live fault matching this request, counted as fired."""
        with self._lock:
            for fault in self._faults:
                if fault.times is not None and fault.fired >= fault.times:
                    continue
                if not fault.matches(method, path):
                    continue
                if fault.probability is not None and fault._rng.random() >= fault.probability:
                    continue
                fault.fired += 1
                return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def list(self) -> list[dict]:
        with self._lock:
            return [f.as_dict() for f in self._faults]
