"""The soak's verdicts: responses and the database counted against the clients' ledger.

Each check returns `Check(name, ok, summary, details)`. The database is read with plain
SQL (psycopg), not through the application, after every process has stopped writing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import psycopg

from .soak_client import Ledger, endpoint


@dataclass
class Check:
    name: str
    ok: bool
    summary: str
    details: list[str] = field(default_factory=list)


def response_checks(ledger: Ledger) -> list[Check]:
    """No 5xx but 503, every 503 with Retry-After, no transport errors."""
    bad = [r for r in ledger.records if r.status >= 500 and r.status != 503]
    no_retry = [r for r in ledger.records if r.status == 503 and not r.retry_after]
    transport = [r for r in ledger.records if r.status == 0]
    by_status = Counter(r.status for r in ledger.records)
    checks = []
    groups = Counter((r.method, endpoint(r.path), r.status) for r in bad)
    details = [f"{n} x {m} {p} -> {s}" for (m, p, s), n in groups.most_common()]
    for record in bad[:10]:
        details.append(
            f"  at {record.at:.1f}s {record.method} {record.path} -> {record.status}: "
            f"{record.body[:600]}"
        )
    checks.append(Check("no 5xx other than 503", not bad, f"{len(bad)} responses", details))
    groups = Counter((r.method, endpoint(r.path)) for r in no_retry)
    checks.append(
        Check(
            "every 503 carries Retry-After",
            not no_retry,
            f"{len(no_retry)} of {by_status.get(503, 0)} without",
            [f"{n} x {m} {p}" for (m, p), n in groups.most_common()],
        )
    )
    groups = Counter((r.method, endpoint(r.path), r.body[:80]) for r in transport)
    checks.append(
        Check(
            "every request answered (no reset or timeout)",
            not transport,
            f"{len(transport)} without",
            [f"{n} x {m} {p}: {b}" for (m, p, b), n in groups.most_common(10)],
        )
    )
    return checks


def _rows(conn, sql, params=()):
    return conn.execute(sql, params).fetchall()


def _creates(conn, ledger, kind, sql, label) -> Check:
    """Each acknowledged create exactly once (with the acknowledged id); nothing else."""
    found = defaultdict(list)
    for tag, pk in _rows(conn, sql):
        found[tag].append(str(pk))
    writes = [w for w in ledger.writes if w.kind == kind]
    problems, sent = [], set()
    for w in writes:
        sent.add(w.tag)
        rows = found.get(w.tag, [])
        if w.outcome == "ack" and rows != [w.result_id]:
            problems.append(
                f"acknowledged {w.tag} ({w.result_id}) is in the database {len(rows)} times: {rows}"
            )
        elif w.outcome == "rejected" and rows:
            problems.append(
                f"{w.tag} answered {w.statuses} but is in the database {len(rows)} times"
            )
        elif w.outcome == "unknown" and len(rows) > 1:
            problems.append(f"{w.tag} (no answer) is in the database {len(rows)} times")
    phantom = sorted(set(found) - sent)
    problems += [f"{tag} is in the database but was never sent" for tag in phantom[:10]]
    outcomes = Counter(w.outcome for w in writes)
    summary = ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items())) or "none"
    return Check(f"{label}: none lost or doubled", not problems, summary, problems[:30])


def database_checks(dsn: str, ledger: Ledger) -> list[Check]:
    checks = []
    with psycopg.connect(dsn) as conn:
        checks.append(
            _creates(
                conn,
                ledger,
                "contact_create",
                "SELECT split_part(email, '@', 1), id FROM records_contact "
                "WHERE email LIKE 'soak-%%'",
                "contacts",
            )
        )
        checks.append(
            _creates(
                conn,
                ledger,
                "product_create",
                "SELECT sku, id FROM records_product WHERE sku LIKE 'soak-%%'",
                "products",
            )
        )
        checks.append(
            _creates(
                conn,
                ledger,
                "invoice_create",
                "SELECT notes, id FROM records_invoice WHERE notes LIKE 'soak-%%'",
                "draft invoices",
            )
        )
        checks.append(
            _creates(
                conn,
                ledger,
                "payment",
                "SELECT reference, id FROM records_payment WHERE reference LIKE 'soak-%%'",
                "payments",
            )
        )
        checks.append(_forbidden(conn, ledger))
        checks.append(_invoice_lines(conn, ledger))
        checks.append(_finalized(conn, ledger))
        checks.append(_numbers(conn))
        checks.append(_payment_sums(conn, ledger))
        checks.append(_own_patches(conn, ledger))
        checks.append(_shared_patches(conn, ledger))
    return checks


def _forbidden(conn, ledger) -> Check:
    writes = [w for w in ledger.writes if w.kind == "forbidden_create"]
    tags = [f"{w.tag}@example.com" for w in writes]
    written = _rows(conn, "SELECT email FROM records_contact WHERE email = ANY(%s)", (tags,))
    statuses = Counter(w.statuses[-1] if w.statuses else 0 for w in writes)
    ok = not written and set(statuses) <= {403}
    return Check(
        "viewer writes refused (403) and not written",
        ok,
        f"{len(writes)} tries, final statuses {dict(statuses)}, {len(written)} written",
        [str(row[0]) for row in written[:10]],
    )


def _invoice_lines(conn, ledger) -> Check:
    """An invoice exists with all the lines sent, or not at all."""
    expected = {w.tag: w.data["lines"] for w in ledger.writes if w.kind == "invoice_create"}
    rows = _rows(
        conn,
        "SELECT i.notes, count(l.id) FROM records_invoice i LEFT JOIN "
        "records_invoiceline l ON l.invoice_id = i.id WHERE i.notes LIKE 'soak-%%' "
        "GROUP BY i.id, i.notes",
    )
    problems = [
        f"{tag}: {count} lines, {expected.get(tag)} sent"
        for tag, count in rows
        if count != expected.get(tag)
    ]
    return Check("no invoice half-written (lines)", not problems, f"{len(rows)} invoices", problems)


def _finalized(conn, ledger) -> Check:
    """Acknowledged finalizes are open (or paid) with the number the client got;
    refused ones left the draft alone."""
    state = {
        str(pk): (status, number)
        for pk, status, number in _rows(
            conn, "SELECT id, status, number FROM records_invoice WHERE notes LIKE 'soak-%%'"
        )
    }
    problems, counts = [], Counter()
    for w in (w for w in ledger.writes if w.kind == "invoice_finalize"):
        counts[w.outcome] += 1
        status, number = state.get(w.target, (None, None))
        if w.outcome == "ack" and (status == "draft" or number != w.data.get("number")):
            problems.append(
                f"finalize of {w.target} acknowledged with {w.data.get('number')}, "
                f"database: {status} {number}"
            )
        elif w.outcome == "rejected" and status != "draft":
            problems.append(
                f"finalize of {w.target} answered {w.statuses} but the invoice is {status} {number}"
            )
    summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    return Check("finalizes as acknowledged", not problems, summary, problems[:30])


def _numbers(conn) -> Check:
    """Numbers gapless per year: `YYYY-0001` .. `YYYY-N`, each once; every non-draft has one."""
    problems = []
    by_year = defaultdict(list)
    for (number,) in _rows(conn, "SELECT number FROM records_invoice WHERE number IS NOT NULL"):
        year, _, seq = number.partition("-")
        by_year[year].append(int(seq))
    for year, seqs in sorted(by_year.items()):
        if sorted(seqs) != list(range(1, len(seqs) + 1)):
            missing = sorted(set(range(1, max(seqs) + 1)) - set(seqs))
            problems.append(
                f"{year}: {len(seqs)} numbers up to {max(seqs)}, missing {missing[:20]}"
            )
    unnumbered = _rows(
        conn,
        "SELECT count(*) FROM records_invoice WHERE number IS NULL "
        "AND status <> 'draft' AND finalized_at IS NOT NULL",
    )[0][0]
    if unnumbered:
        problems.append(f"{unnumbered} finalized invoices without a number")
    total = sum(len(s) for s in by_year.values())
    return Check(
        "finalized invoices have gapless numbers", not problems, f"{total} numbers", problems
    )


def _payment_sums(conn, ledger) -> Check:
    """Per invoice: the payments' sum is the stored total paid, and what was acknowledged."""
    acked, unknown = defaultdict(Decimal), defaultdict(Decimal)
    for w in (w for w in ledger.writes if w.kind == "payment"):
        if w.outcome == "ack":
            acked[w.target] += Decimal(w.data["amount"])
        elif w.outcome == "unknown":
            unknown[w.target] += Decimal(w.data["amount"])
    rows = _rows(
        conn,
        "SELECT i.id, i.total_paid, i.total, i.status, "
        "COALESCE(sum(p.amount), 0) FROM records_invoice i LEFT JOIN "
        "records_payment p ON p.invoice_id = i.id GROUP BY i.id",
    )
    problems = []
    for pk, total_paid, total, status, paid in rows:
        pk = str(pk)
        if paid != total_paid:
            problems.append(f"{pk}: payments sum {paid}, total_paid {total_paid}")
        known = pk in acked or pk in unknown
        if known and not acked[pk] <= paid <= acked[pk] + unknown[pk]:
            problems.append(
                f"{pk}: paid {paid}, acknowledged {acked[pk]} (+{unknown[pk]} without answer)"
            )
        if paid > total:
            problems.append(f"{pk}: paid {paid} over the total {total}")
        if (status == "paid") != (paid == total and total > 0) and paid > 0:
            problems.append(f"{pk}: status {status} with {paid} paid of {total}")
    total_acked = sum(acked.values())
    return Check(
        "payments sum as acknowledged",
        not problems,
        f"{len(acked)} invoices, {total_acked} acknowledged",
        problems[:30],
    )


def _versions(conn, ids) -> dict:
    rows = _rows(
        conn,
        "SELECT id, version, city FROM records_contact WHERE id = ANY(%s::uuid[])",
        (list(ids),),
    )
    return {str(pk): (version, city) for pk, version, city in rows}


def _own_patches(conn, ledger) -> Check:
    """One writer per contact: its version counts the acknowledged PATCHes, its city is the
    last acknowledged value."""
    per = defaultdict(list)
    for w in ledger.writes:
        if w.kind == "contact_patch":
            per[w.target].append(w)
    created = {w.result_id: w for w in ledger.writes if w.kind == "contact_create" and w.result_id}
    stored = _versions(conn, per)
    problems = []
    for pk, writes in per.items():
        version, city = stored.get(pk, (None, None))
        acks = [w for w in writes if w.outcome == "ack"]
        unknown = [w for w in writes if w.outcome == "unknown"]
        base = 1 if pk in created else None
        if base is None:
            continue
        if not base + len(acks) <= (version or 0) <= base + len(acks) + len(unknown):
            problems.append(
                f"{pk}: version {version}, {len(acks)} PATCHes acknowledged "
                f"({len(unknown)} without answer)"
            )
        if acks and not unknown and city != acks[-1].tag[-100:]:
            problems.append(f"{pk}: city {city!r}, last acknowledged {acks[-1].tag!r}")
    return Check(
        "PATCH (one writer): versions and values as acknowledged",
        not problems,
        f"{sum(len(v) for v in per.values())} PATCHes on {len(per)} contacts",
        problems[:30],
    )


def _shared_patches(conn, ledger) -> Check:
    """Contention with If-Match: no two acknowledged PATCHes of one contact got the same
    version (a lost update), and the version counts them."""
    per = defaultdict(list)
    for w in ledger.writes:
        if w.kind == "shared_patch":
            per[w.target].append(w)
    stored = _versions(conn, per)
    problems, outcomes = [], Counter()
    for pk, writes in per.items():
        acks = [w for w in writes if w.outcome == "ack"]
        unknown = [w for w in writes if w.outcome == "unknown"]
        outcomes.update(w.statuses[-1] if w.statuses else 0 for w in writes)
        versions = Counter(w.data["version"] for w in acks)
        doubled = {v: n for v, n in versions.items() if n > 1}
        if doubled:
            problems.append(f"{pk}: versions acknowledged more than once {doubled}")
        version, city = stored.get(pk, (None, None))
        other = [w for w in ledger.writes if w.kind == "contact_patch" and w.target == pk]
        if not other and not 1 + len(acks) <= version <= 1 + len(acks) + len(unknown):
            problems.append(
                f"{pk}: version {version}, {len(acks)} PATCHes acknowledged "
                f"({len(unknown)} without answer)"
            )
        if acks and not unknown:
            last = max(acks, key=lambda w: w.data["version"])
            if city != last.tag[-100:] or version != last.data["version"]:
                problems.append(
                    f"{pk}: city {city!r} v{version}, last acknowledged "
                    f"{last.tag!r} v{last.data['version']}"
                )
    return Check(
        "PATCH with If-Match under contention: no lost update",
        not problems,
        f"final statuses {dict(outcomes)}",
        problems[:30],
    )


def outbox_summary(dsn: str) -> dict:
    """The outbox by kind and status, and the items not done (the pushes to the sandbox)."""
    with psycopg.connect(dsn) as conn:
        counts = _rows(
            conn,
            "SELECT kind, status, count(*) FROM integrations_outboxitem "
            "GROUP BY kind, status ORDER BY kind, status",
        )
        open_items = _rows(
            conn,
            "SELECT kind, status, attempts, next_attempt_at, lease_until, last_error "
            "FROM integrations_outboxitem WHERE status <> 'succeeded' ORDER BY created_at",
        )
    return {"counts": counts, "open": open_items}


def outbox_check(summary: dict) -> Check:
    """No push failed for good. Pending items are not counted against the run: pushes
    share the provider's request budget (150 per 5 minutes, as Moneybird allows), so
    under this load most of them are still waiting for it when the traffic ends."""
    counts = Counter()
    for _, status, n in summary["counts"]:
        counts[status] += n
    failed = [
        f"{kind} {status}, {attempts} attempts: {error[:300]!r}"
        for kind, status, attempts, _, _, error in summary["open"]
        if status == "failed"
    ]
    waiting = Counter(
        "the request budget" if "budget" in error else (error[:60] or "its turn")
        for _, status, _, _, _, error in summary["open"]
        if status in ("pending", "in_progress")
    )
    details = failed + [f"open, waiting for {why}: {n}" for why, n in waiting.most_common()]
    return Check("outbox: no push failed", not counts.get("failed"), str(dict(counts)), details)
