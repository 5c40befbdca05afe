from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        """Connect to the records domain events (records never imports integrations)."""
        from records import events

        from .sync import push

        events.invoice_finalized.connect(
            push.on_invoice_finalized, dispatch_uid="integrations.push.invoice_finalized"
        )
        events.payment_registered.connect(
            push.on_payment_registered, dispatch_uid="integrations.push.payment_registered"
        )
