"""Moneybird's two error body shapes, raised by the sandbox's handlers."""


class ApiError(Exception):
    """An HTTP error response in one of Moneybird's shapes."""

    def __init__(self, status: int, body: dict, headers: dict | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def symbolic(status: int, message: str, **symbols: str) -> ApiError:
    """400/401/402/404 (and some 422): `{"error": "...", "symbolic": {...}}`."""
    body: dict = {"error": message}
    if symbols:
        body["symbolic"] = symbols
    return ApiError(status, body)


def not_found(model: str | None = None) -> ApiError:
    if model:
        return symbolic(404, f"Record not found for model name: {model}", id="not_found")
    return symbolic(404, "record not found", id="not_found")


def invalid(errors: dict[str, list[str]], details: dict | None = None) -> ApiError:
    """422 for a record that fails validation: `{"error": {"field": ["msg"]}, "details": {...}}`."""
    if details is None:
        details = {field: [{"error": msg} for msg in msgs] for field, msgs in errors.items()}
    return ApiError(422, {"error": errors, "details": details})
