"""Foundation benchmark: /healthz next to a bare Django view; sync vs uvicorn workers."""

from bench.harness import Context, Row


def run(ctx: Context, seconds: float) -> list[tuple[str, list[Row]]]:
    rows = []
    with ctx.server(worker_class="sync") as url:
        rows.append(
            Row("bare Django view (sync/WSGI)", ctx.load(f"{url}/bench/bare-ok", seconds=seconds))
        )
        rows.append(
            Row(
                "/healthz (sync/WSGI)",
                ctx.load(f"{url}/healthz", seconds=seconds),
                reference="bare Django view (sync/WSGI)",
            )
        )
        rows.append(
            Row(
                "DRF view (sync/WSGI)",
                ctx.load(f"{url}/bench/drf-ok", seconds=seconds),
                reference="bare Django view (sync/WSGI)",
            )
        )
    with ctx.server(
        worker_class="uvicorn_worker.UvicornWorker", extra_env={"DATABASE_POOL": "true"}
    ) as url:
        rows.append(
            Row(
                "bare Django view (uvicorn/ASGI)",
                ctx.load(f"{url}/bench/bare-ok", seconds=seconds),
                reference="bare Django view (sync/WSGI)",
            )
        )
        rows.append(
            Row(
                "/healthz (uvicorn/ASGI)",
                ctx.load(f"{url}/healthz", seconds=seconds),
                reference="/healthz (sync/WSGI)",
            )
        )
        rows.append(
            Row(
                "DRF view (uvicorn/ASGI)",
                ctx.load(f"{url}/bench/drf-ok", seconds=seconds),
                reference="DRF view (sync/WSGI)",
            )
        )
    return [("Web: /healthz and worker classes", rows)]
