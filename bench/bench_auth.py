"""Authentication's cost: `GET /api/v1/users/me/` with a Bearer token, next to the same
view with authentication off (bench-only URL), in the same run. Goal: under 15 %."""

import os

from bench.harness import Context, LoadResult, Row

ROUNDS = 4  # alternate the two views so warm-up and neighbours' load hit both alike

BENCH_EMAIL = "bench-auth@example.com"


def _bench_user_and_token() -> tuple[str, str, str]:
    """(user id, role, access token) of a bench user, through the accounts services."""
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_auth"
    django.setup()
    from accounts.models import User
    from accounts.roles import Role
    from accounts.services import session_start, user_set_role

    user, _ = User.objects.get_or_create(
        email=BENCH_EMAIL, defaults={"name": "Bench User", "is_verified": True}
    )
    user_set_role(user=user, role=Role.EMPLOYEE)
    tokens = session_start(user=user, user_agent="bench", ip="127.0.0.1")
    return str(user.pk), Role.EMPLOYEE.value, tokens.access_token


def run(ctx: Context, seconds: float) -> list[tuple[str, list[Row]]]:
    user_id, role, token = _bench_user_and_token()
    env = {"DJANGO_SETTINGS_MODULE": "bench.settings_auth"}
    reference = "users/me, authentication off (bench-only view)"
    offs, ons = [], []
    with ctx.server(worker_class="sync", extra_env=env) as url:
        for round_ in range(ROUNDS):
            pair = [
                (offs, f"{url}/bench/users-me-noauth?user={user_id}&role={role}", {}),
                (ons, f"{url}/api/v1/users/me/", {"Authorization": f"Bearer {token}"}),
            ]
            for results, target, headers in pair if round_ % 2 == 0 else reversed(pair):
                results.append(ctx.load(target, headers=headers, seconds=seconds / ROUNDS))
    off, on = _combined(offs), _combined(ons)
    cost = 1 - on.rps / off.rps if off.rps else float("nan")
    rows = [
        Row(reference, off),
        Row(
            "GET /api/v1/users/me/ (Bearer token)",
            on,
            reference=reference,
            note=f"authentication costs {cost:.0%} of throughput (goal: under 15 %)",
        ),
    ]
    return [("Accounts: token authentication on GET /api/v1/users/me/", rows)]


def _combined(results: list[LoadResult]) -> LoadResult:
    return LoadResult(
        requests=sum(r.requests for r in results),
        errors=sum(r.errors for r in results),
        seconds=sum(r.seconds for r in results),
        latencies_ms=[ms for r in results for ms in r.latencies_ms],
        queries=[q for r in results for q in r.queries],
    )
