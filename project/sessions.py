"""Django's database sessions, refusing session keys that cannot be one.

A session key is made by Django from lower-case letters and digits. The stock backend
accepts any cookie value of 8 characters or more and looks it up, so a cookie holding
a NUL byte reaches PostgreSQL, which refuses NUL in text ("cannot contain NUL
characters"), and the request ends in a 500. Here such a key is treated like an unknown
one: no session.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore


class SessionStore(DatabaseSessionStore):
    def _validate_session_key(self, key) -> bool:
        return bool(super()._validate_session_key(key)) and key.isascii() and key.isalnum()
