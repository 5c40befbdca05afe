from django.apps import AppConfig


class SandboxConfig(AppConfig):
    """The Moneybird sandbox's management commands (`run_sandbox`, `ensure_sandbox_connection`)."""

    name = "sandbox"
    verbose_name = "Moneybird sandbox (development tool)"
