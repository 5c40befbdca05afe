from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        """Connect to the records domain events (records never imports integrations)."""
        # Models and services can be imported only once the app registry is ready.
        from records import events

        from .services import outbox

        events.invoice_finalized.connect(
            outbox.on_invoice_finalized, dispatch_uid="integrations.push.invoice_finalized"
        )
        events.payment_registered.connect(
            outbox.on_payment_registered, dispatch_uid="integrations.push.payment_registered"
        )
