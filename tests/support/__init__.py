"""Test helpers shared by the apps' tests (never imported by the product).

- `auth`: sessions and API clients signed in as a user, the app-mode login.
- `workers`: real Celery worker processes on the test database and broker namespace.

Factories live in each app's `tests/factories.py`; fixtures in the `conftest.py` files.
"""
