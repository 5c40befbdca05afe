"""The invoice list on a large data set: 50k contacts, 5k products, 200k invoices with
about a million lines (and 90k payments), loaded with COPY (about 20 s) whenever the
bench database does not hold exactly this data set (a marker row and the row counts;
`bench_sync` empties these tables, so a full `make bench` reloads it next time). Loading
empties the records tables first, on a database named `*bench*` only.

Each figure next to a reference measured in the same run, alternating in rounds:
- `GET /api/v1/invoices/?page_size=50` against a bare Django view answering the same
  page (same token check, permission, selector and queries) as JSON without DRF
  (`bench/urls_records.py`). Goal: at least 0.85 of the bare view's throughput.
- a page 95 % of the way through the list (a cursor built the way DRF builds it)
  against the first page. Goal: p50 at most 1.2 times the first page's.
- queries per request at 10, 50 and 100 per page. Goal: constant.
"""

import json

from bench.harness import Context, LoadResult, Row
from bench.records_dataset import (
    BENCH_EMAIL,
    DEEP,
    N_INVOICES,
    PAGE,
    ROUNDS,
    SETTINGS,
    _django,
    ensure_dataset,
)


def _bench_token() -> str:
    from accounts.models import User
    from accounts.roles import Role
    from accounts.services import session_start, user_set_role

    user, _ = User.objects.get_or_create(
        email=BENCH_EMAIL, defaults={"name": "Bench Records", "is_verified": True}
    )
    user_set_role(user=user, role=Role.EMPLOYEE)
    return session_start(user=user, user_agent="bench", ip="127.0.0.1").access_token


def _deep_page_url(base: str) -> tuple[str, str]:
    """(URL of the page starting 95 % of the way through, id of its first invoice):
    the keyset position of the row before it, in a cursor encoded by DRF itself."""
    from rest_framework.pagination import Cursor

    from project.api.pagination import CursorPagination
    from records.models import Invoice

    start = int(Invoice.objects.count() * DEEP)
    before, first = Invoice.objects.order_by("-created_at").values_list("created_at", "id")[
        start - 1 : start + 1
    ]
    paginator = CursorPagination()
    paginator.base_url = base
    return paginator.encode_cursor(Cursor(offset=0, reverse=False, position=str(before[0]))), str(
        first[1]
    )


def _check_page(url: str, headers: dict, first_id: str) -> None:
    """One request: the deep cursor must land where it was aimed (else the bench lies)."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", f"{parts.path}?{parts.query}", headers=headers)
    response = conn.getresponse()
    body = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"deep page: {response.status} {body}")
    if len(body["results"]) != PAGE or body["results"][0]["id"] != first_id:
        raise RuntimeError("deep page: the cursor did not land on the expected invoice")


def _combined(results: list[LoadResult]) -> LoadResult:
    return LoadResult(
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        seconds=sum(r.seconds for r in results),
        latencies_ms=[ms for r in results for ms in r.latencies_ms],
        queries=[q for r in results for q in r.queries],
    )


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def run(ctx: Context, seconds: float) -> list[tuple[str, list[Row]]]:
    _django()
    print(f"\nrecords: {ensure_dataset()}")
    token = _bench_token()
    headers = {"Authorization": f"Bearer {token}"}
    env = {"DJANGO_SETTINGS_MODULE": SETTINGS}
    bare_name = f"bare Django view, {PAGE} invoices with lines (no DRF)"
    first_name = f"GET /api/v1/invoices/?page_size={PAGE} (first page)"
    deep_name = f"same, a page {DEEP:.0%} of the way through (cursor)"
    with ctx.server(worker_class="sync", extra_env=env) as url:
        api = f"{url}/api/v1/invoices/?page_size={PAGE}"
        deep_url, deep_first = _deep_page_url(api)
        _check_page(deep_url, headers, deep_first)
        targets = {
            bare_name: f"{url}/bench/invoices-bare?page_size={PAGE}",
            first_name: api,
            deep_name: deep_url,
        }
        measured = {name: [] for name in targets}
        for round_ in range(ROUNDS):
            order = list(targets) if round_ % 2 == 0 else list(reversed(targets))
            for name in order:
                measured[name].append(
                    ctx.load(targets[name], headers=headers, seconds=seconds / ROUNDS)
                )
        sizes = {}
        for size in (10, 50, 100):
            sizes[size] = ctx.load(
                f"{url}/api/v1/invoices/?page_size={size}", headers=headers, seconds=seconds / 2
            )
    bare, first, deep = (_combined(measured[name]) for name in targets)
    throughput = first.rps / bare.rps if bare.rps else float("nan")
    latency = deep.p50 / first.p50 if first.p50 else float("nan")
    list_rows = [
        Row(bare_name, bare),
        Row(
            first_name,
            first,
            reference=bare_name,
            note=f"{throughput:.2f}x the bare view (goal: at least 0.85, "
            f"{_verdict(throughput >= 0.85)})",
        ),
        Row(
            deep_name,
            deep,
            reference=first_name,
            note=f"p50 {latency:.2f}x the first page's (goal: at most 1.2, "
            f"{_verdict(latency <= 1.2)})",
        ),
    ]
    counts = {size: sorted(set(r.queries)) for size, r in sizes.items()}
    constant = (
        all(len(c) == 1 for c in counts.values()) and len({c[0] for c in counts.values()}) == 1
    )
    size_rows = [
        Row(
            f"GET /api/v1/invoices/?page_size={size}",
            result,
            note=f"{'/'.join(map(str, counts[size]))} queries" + (
                f" at every page size (goal: constant, {_verdict(constant)})" if size == 100 else ""
            ),
        )
        for size, result in sizes.items()
    ]  # fmt: skip
    return [
        (
            f"Records: invoice list on {N_INVOICES // 1000}k invoices / ~1M lines "
            f"(bare view vs DRF, deep page vs first page)",
            list_rows,
        ),
        ("Records: queries per request by page size", size_rows),
    ]
