"""Two refreshes with the same token at the same moment: exactly one succeeds.

Real threads, each with its own database connection, against the committed data
(`transactional_db`). On PostgreSQL the token row is locked (`SELECT ... FOR UPDATE`),
so the second waits, then sees a used token.
"""

import threading

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import AuthSession, RefreshToken, SessionEndReason
from accounts.tests.factories import UserFactory
from tests.support.auth import login


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_refreshes_give_exactly_one_success():
    user = UserFactory(role="viewer")
    tokens = login(user)
    barrier = threading.Barrier(2)
    statuses = []

    def refresh():
        try:
            barrier.wait(timeout=10)
            response = APIClient().post(
                reverse("auth-refresh"), {"refresh_token": tokens.refresh_token}, format="json"
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(statuses) == [200, 401]
    assert RefreshToken.objects.filter(used_at__isnull=False).count() == 1
    assert RefreshToken.objects.count() == 2  # the login's and the winner's, no more
    # The loser presented a used token: by the reuse rule the session is revoked.
    assert AuthSession.objects.get().revoked_reason == SessionEndReason.REUSE
