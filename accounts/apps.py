from django.apps import AppConfig, apps
from django.db import router
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender, app_config, using, **kwargs):
    """Run `roles_sync` once per migrate, after every app's permissions exist.

    `post_migrate` is sent once per app, in INSTALLED_APPS order, and Django's own
    receiver creates that app's permissions; this receiver (connected later) acts only
    on the last app's signal, when all permissions have been created.
    """
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if not with_models or app_config.label != with_models[-1].label:
        return
    # Not at the top: apps.py is imported before the models exist, and services use them.
    from .services import roles_sync

    if router.allow_migrate_model(using, apps.get_model("auth", "Group")):
        roles_sync()


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
        # Registers the OpenAPI auth extensions; at import time the models are not ready.
        from .api import schema  # noqa: F401
