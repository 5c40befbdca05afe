"""gunicorn settings (`gunicorn project.wsgi -c project/gunicorn_conf.py`).

Sync workers on WSGI: `make bench` measured them against uvicorn workers on ASGI for
the same DRF view on this hardware (see README, "Web server"); with persistent
database connections they were the faster choice for plain HTTP. WebSockets, when
they come, are served by `project.asgi` under uvicorn on their own.

gunicorn 27's control socket (for `gunicornc`) defaults to one path in the home
directory, so a second instance (a test or bench server beside `make run`) collides with
the first: each instance gets its own under `var/`, named after its bind address
(`GUNICORN_CONTROL_SOCKET` to choose another path).
"""

import multiprocessing
import os
import re
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 5)))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

_var_dir = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or str(
    _var_dir / f"gunicorn-{re.sub(r'[^A-Za-z0-9.-]+', '-', bind).strip('-')}.ctl"
)
