"""The invoice list with and without `FastOutputMixin` (DRF's own output).

    DATABASE_URL=... BENCH_REDIS_URL=... python bench/compare_output.py [--rounds 6] [--seconds 4]
    ... python bench/compare_output.py --in-process [--rounds 10] [--requests 40]

Over HTTP: two gunicorn servers on the `bench_records` data set, one with the project's
settings and one with `bench.settings_records_drf` (DRF's `to_representation`); loads
alternate between them round by round (ABBA), so both see the same machine. In process:
the same request through Django's test client in one process, the variants alternating
round by round, timed per request in wall and CPU time (CPU time is what a variant
costs, whatever else the machine runs). Each prints every round and the medians of p50,
p99 (and req/s) with their ratios. The figures are in bench/README.md.
"""

import argparse
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import bench_records  # noqa: E402
from bench.harness import Context  # noqa: E402
from bench.run import bench_env, ensure_services  # noqa: E402

VARIANTS = ("fast", "drf")


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def _summary(figures: dict[str, list[tuple]], labels: tuple[str, ...]) -> None:
    med = {n: [statistics.median(f[i] for f in rows) for i in range(len(labels))]
           for n, rows in figures.items()}  # fmt: skip
    print("\n| medians of the rounds | " + " | ".join(labels) + " |")
    print("|---|" + "---:|" * len(labels))
    for name, values in med.items():
        print(f"| {name} | " + " | ".join(f"{v:.2f}" for v in values) + " |")
    for name, values in med.items():
        if name != "drf":
            ratios = [f / d for f, d in zip(values, med["drf"], strict=True)]
            print(f"| {name} / drf | " + " | ".join(f"{r:.3f}" for r in ratios) + " |")


def over_http(args, headers) -> None:
    env = bench_env()
    ctx = Context(env=env)
    settings = {"fast": bench_records.SETTINGS, "drf": "bench.settings_records_drf"}
    figures = {name: [] for name in VARIANTS}
    with (
        ctx.server(extra_env={"DJANGO_SETTINGS_MODULE": settings["fast"]}) as fast_url,
        ctx.server(extra_env={"DJANGO_SETTINGS_MODULE": settings["drf"]}) as drf_url,
    ):
        urls = {"fast": fast_url, "drf": drf_url}
        for round_ in range(args.rounds):
            for name in VARIANTS if round_ % 2 == 0 else reversed(VARIANTS):
                r = ctx.load(f"{urls[name]}/api/v1/invoices/?{args.query}", headers=headers,
                             seconds=args.seconds)  # fmt: skip
                assert r.errors == 0, (name, r.errors)
                figures[name].append((r.p50, r.p99, r.rps))
                print(f"round {round_} {name:4}: p50 {r.p50:7.1f} ms  p99 {r.p99:7.1f} ms  "
                      f"{r.rps:6.1f} req/s", flush=True)  # fmt: skip
    _summary(figures, ("p50 ms", "p99 ms", "req/s"))


@contextmanager
def _variant(name: str):
    """`fast`: the project's; `drf`: DRF's own `to_representation`."""
    from rest_framework import serializers

    from project.api.serializers import FastOutputMixin

    saved = FastOutputMixin.to_representation
    if name == "drf":
        FastOutputMixin.to_representation = serializers.Serializer.to_representation
    try:
        yield
    finally:
        FastOutputMixin.to_representation = saved


def in_process(args, headers) -> None:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=headers["Authorization"], HTTP_HOST="127.0.0.1")
    url = f"/api/v1/invoices/?{args.query}"
    for name in VARIANTS:  # warm up: connections, caches, plans
        with _variant(name):
            for _ in range(5):
                assert client.get(url).status_code == 200
    figures = {name: [] for name in VARIANTS}
    for round_ in range(args.rounds):
        order = VARIANTS if round_ % 2 == 0 else reversed(VARIANTS)
        for name in order:
            walls, cpus = [], []
            with _variant(name):
                for _ in range(args.requests):
                    wall, cpu = time.perf_counter(), time.process_time()
                    response = client.get(url)
                    cpus.append((time.process_time() - cpu) * 1000)
                    walls.append((time.perf_counter() - wall) * 1000)
                    assert response.status_code == 200
            row = (statistics.median(cpus), _p99(cpus), statistics.median(walls), _p99(walls))
            figures[name].append(row)
            print(f"round {round_} {name:4}: CPU p50 {row[0]:6.2f} p99 {row[1]:6.2f} ms  "
                  f"wall p50 {row[2]:6.2f} p99 {row[3]:6.2f} ms", flush=True)  # fmt: skip
    _summary(figures, ("CPU p50 ms", "CPU p99 ms", "wall p50 ms", "wall p99 ms"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4.0, help="load per round (HTTP)")
    parser.add_argument("--requests", type=int, default=40, help="per round (in process)")
    parser.add_argument("--query", default="page_size=50")
    parser.add_argument("--in-process", action="store_true")
    args = parser.parse_args()
    env = bench_env()
    os.environ.update(env)
    ensure_services(env)
    bench_records._django()
    print(bench_records.ensure_dataset(), flush=True)
    headers = {"Authorization": f"Bearer {bench_records._bench_token()}"}
    (in_process if args.in_process else over_http)(args, headers)


if __name__ == "__main__":
    main()
