"""A worker process for the shared-budget test (imported by a spawned process)."""

import os


def run(base_url: str, administration_id: str, token: str, budget_key: str, requests: int):
    """Make `requests` calls through one client; returns (sent, refused)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    os.environ["INTEGRATIONS_ALLOW_LOCAL_URLS"] = "true"
    import django

    django.setup()
    from integrations.providers.base import BudgetExhausted
    from integrations.providers.budget import RequestBudget
    from integrations.providers.moneybird import MoneybirdClient

    budget = RequestBudget(budget_key, prefix="test:budget")
    client = MoneybirdClient(base_url=base_url, administration_id=administration_id, token=token,
                             budget=budget, retries=0)  # fmt: skip
    sent = refused = 0
    for _ in range(requests):
        try:
            client.list_contact_versions()
            sent += 1
        except BudgetExhausted:
            refused += 1
    client.close()
    return sent, refused
