"""Hand work to a Celery worker once the current transaction commits: the one way
integrations enqueues.

Services and the runners call `enqueue` with a task *name* (the constants below, which
the tasks in `integrations/tasks/` register under), never a task object: no domain
module imports a task module, so the tasks can import the services and the runners at
the top without a cycle. The message is sent from `transaction.on_commit`, so a worker
never looks for rows that are not committed yet (outside a transaction Django runs the
callback at once). The names are the strings queued messages carry: keep them stable.
A broker that cannot take the message then is logged, not raised into the committed
request (`project.tasks.send_on_commit`): the push sweep finds the outbox item again.
"""

from project.tasks import send_on_commit

PUSH_ITEM = "integrations.push_item"
PUSH_SWEEP = "integrations.push_sweep"
SYNC_RUN = "integrations.sync_run"
SYNC_TICK = "integrations.sync_tick"
PUSH_FAILED_EMAIL = "integrations.send_push_failed_email"
CONNECTION_ATTENTION_EMAIL = "integrations.send_connection_attention_email"


def enqueue(task_name: str, *args: str, queue: str | None = None) -> None:
    """Send the task `task_name` with `args` (ids as strings) after commit, to `queue`
    (None: the default queue)."""

    send_on_commit(task_name, args, queue=queue)
