from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        """Connect to the records domain events (records never imports integrations)."""
        # import here: apps.py is imported before the models exist, and events use them.
        from records import events

        # import here: the services use the models, which exist only once apps are ready.
        from .services import outbox

        events.invoice_finalized.connect(
            outbox.on_invoice_finalized, dispatch_uid="integrations.push.invoice_finalized"
        )
        events.payment_registered.connect(
            outbox.on_payment_registered, dispatch_uid="integrations.push.payment_registered"
        )
