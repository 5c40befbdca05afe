"""The soak's report: the RSS verdict, the printed summary and the raw data it keeps."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter

from .soak_checks import Check
from .soak_procs import tracebacks

RSS_LIMIT = 0.05


def rss_check(soak) -> Check:
    """Each gunicorn worker and the Celery worker: the median RSS of the window after
    warm-up (the first fifth of the run) against the median of the last tenth."""
    warm = soak.traffic_start + max(0.2 * soak.seconds, 20)
    window = max(0.1 * soak.seconds, 10)
    end = soak.traffic_start + soak.seconds
    problems, lines = [], []
    for group in sorted({g for _, g, _, _ in soak.rss}):
        samples = [(t, kb) for t, g, _, kb in soak.rss if g == group]
        first = [kb for t, kb in samples if warm <= t < warm + window]
        last = [kb for t, kb in samples if end - window <= t <= end]
        if not first or not last:
            problems.append(f"{group}: no samples {'at the end' if first else 'after warm-up'}")
            continue
        a, b = statistics.median(first), statistics.median(last)
        growth = (b - a) / a
        peak_t, peak = max(samples, key=lambda sample: sample[1])
        lines.append(
            f"{group}: {a / 1024:.1f} MB after warm-up -> {b / 1024:.1f} MB at the "
            f"end ({growth:+.1%}), peak {peak / 1024:.1f} MB at {peak_t:.0f}s"
        )
        if growth >= RSS_LIMIT:
            problems.append(lines[-1])
    # Two gunicorn workers and the Celery worker, each measured from warm-up to the end.
    ok = not problems and len(lines) == 3
    details = lines + [p for p in problems if p not in lines]
    return Check("RSS growth under 5 % after warm-up", ok, f"{len(lines)} of 3 measured", details)


def report(soak, checks: list[Check], outbox: dict) -> None:
    """Print the report and keep it as `report.txt` in the run's directory."""
    records = soak.ledger.records
    out = [f"\n# Soak {soak.run_id}: {soak.seconds:.0f} s, {soak.clients} clients"]
    out += [f"  {t:7.1f}s  {message}" for t, message in soak.events]
    statuses = Counter(r.status for r in records)
    out.append(
        f"  requests {len(records)} ({len(records) / soak.seconds:.1f}/s), by status "
        f"{dict(sorted(statuses.items()))}"
    )
    for status in (401, 503):
        times = [r.at for r in records if r.status == status]
        if times:
            out.append(f"  {status}s from {min(times):.1f}s to {max(times):.1f}s")
    writes = Counter((w.kind, w.outcome) for w in soak.ledger.writes)
    out.append(f"  writes: {', '.join(f'{k} {o} {n}' for (k, o), n in sorted(writes.items()))}")
    out.append(f"  outbox after the drain: {outbox['counts']}")
    if soak.client_errors:
        out.append(f"  client errors: {soak.client_errors}")
    out.append("")
    for check in checks:
        out.append(f"{'PASS' if check.ok else 'FAIL'}  {check.name}: {check.summary}")
        out.extend(f"      {line}" for line in check.details)
    for name, title in (("gunicorn", "Server"), ("celery", "Celery worker")):
        found = tracebacks(soak.run_dir / f"{name}.log")
        if found:
            out.append(f"\n{title} tracebacks ({name}.log, {len(found)} distinct):")
            out += [f"--- {count} x\n{text}" for count, text in found]
    text = "\n".join(out)
    print(text, flush=True)
    (soak.run_dir / "report.txt").write_text(text + "\n")


def save_raw(soak) -> None:
    """What the clients saw and the RSS samples, for a closer look."""
    with open(soak.run_dir / "requests.jsonl", "w") as handle:
        for record in soak.ledger.records:
            handle.write(json.dumps(dataclasses.asdict(record)) + "\n")
    with open(soak.run_dir / "writes.jsonl", "w") as handle:
        for write in soak.ledger.writes:
            handle.write(json.dumps(dataclasses.asdict(write)) + "\n")
    with open(soak.run_dir / "rss.csv", "w") as handle:
        handle.write("t,process,pids,rss_kb\n")
        handle.writelines(f"{t:.1f},{g},{n},{kb}\n" for t, g, n, kb in soak.rss)
