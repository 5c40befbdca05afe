"""The prefetch: the pull fetches the next batches from the provider while it writes.

`prefetched(fetch, versions)` yields the fetched batches of `versions` as
`(versions, what fetch returned)`, each the next batch together with those already
fetched meanwhile (at most WRITE_GROUP batches): one thread fetches batch after batch,
up to WRITE_GROUP ahead, while the caller writes (the provider's time overlaps ours).
Only that thread talks to the provider meanwhile, and the caller's thread does every
write, one transaction per group: when the provider is slower than the writes, that is
one batch each; when it is faster, a transaction takes several batches and the
per-batch queries are shared. A fetch error is raised when its batch is reached (the
batches before it are written); closing the generator cancels the fetches not started
and waits for one under way, so the client is not closed under it.
"""

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

from integrations.providers.base import RemoteVersion

BATCH = 100  # the provider's synchronization fetch takes 100 ids at a time
WRITE_GROUP = 5  # fetched batches at most in one write transaction


def prefetched(
    fetch: Callable[[list[str]], list], versions: list[RemoteVersion]
) -> Iterator[tuple[list[RemoteVersion], list]]:
    """See the module docstring."""
    batches = [versions[start : start + BATCH] for start in range(0, len(versions), BATCH)]
    if not batches:
        return

    def ids(batch):
        return fetch([v.id for v in batch])

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pull-fetch")
    pending = deque()
    queued = iter(batches)
    try:
        while True:
            for batch in islice(queued, WRITE_GROUP - len(pending)):
                pending.append((batch, pool.submit(ids, batch)))
            if not pending:
                return
            batch, future = pending.popleft()
            group, remote = list(batch), list(future.result())
            while pending and len(group) < WRITE_GROUP * BATCH:
                batch, future = pending[0]
                if not future.done() or future.exception() is not None:
                    break  # not fetched yet, or its error is raised at its turn
                pending.popleft()
                group += batch
                remote += future.result()
            yield group, remote
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
