"""Domain errors every app raises, and every interface renders the same way.

Services raise these (or subclasses named for their domain, e.g. records'
`InvoiceNotEditable(Conflict)`); they never know which interface called them. The REST
exception handler (`project.api.errors`) maps each base class to its status and error
shape; the admin shows the message; later interfaces (GraphQL, WebSockets) map the same
classes to their own codes. Bad input stays Django's `ValidationError` with a field dict.

| class | REST status | meaning |
|---|---|---|
| `Conflict` | 409 | the row's state forbids the operation |
| `StaleVersion` | 412 | the caller's `version` / `If-Match` is not the row's any more |

`extra` holds small, JSON-ready facts the error body carries beside `detail`
(e.g. `{"run_id": "..."}` for the sync already running).
"""


class DomainError(Exception):
    """Base of the errors services raise for a well-formed request they refuse."""

    default_message = "The operation cannot be done."

    def __init__(self, message: str | None = None, **extra) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.extra = extra


class Conflict(DomainError):
    """The row's state forbids the write (409)."""

    default_message = "The record's state does not allow this."


class StaleVersion(DomainError):
    """The row changed since the caller read it (412)."""

    default_message = "The record has changed since you read it (If-Match). Read it again."
