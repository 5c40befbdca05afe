"""Encryption at rest for connection credentials: MultiFernet over FIELD_ENCRYPTION_KEYS.

The first key encrypts, every key decrypts, so keys rotate without downtime: put a new
key first, run `manage.py rotate_encryption_keys`, then drop the old one. The keys come
from their own setting, never from SECRET_KEY (see project/settings.py).
"""

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """No configured key opens this ciphertext (a key was dropped too early, or the
    value was tampered with). The message never contains key or plaintext."""


@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, MultiFernet]:
    fernets = [Fernet(key) for key in keys]
    return fernets[0], MultiFernet(fernets)


def _current() -> tuple[Fernet, MultiFernet]:
    keys = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise DecryptionError("FIELD_ENCRYPTION_KEYS is empty")
    return _fernets(keys)


def encrypt(plaintext: str) -> str:
    """Ciphertext (a Fernet token, ASCII) of `plaintext` under the first key."""
    return _current()[1].encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _current()[1].decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "The stored credentials cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS"
        ) from None


def is_current(ciphertext: str) -> bool:
    """Whether the first (encrypting) key opens `ciphertext`."""
    try:
        _current()[0].decrypt(ciphertext.encode())
    except InvalidToken:
        return False
    return True


def rotate(ciphertext: str) -> str:
    """`ciphertext` re-encrypted under the first key (raises DecryptionError if no key
    opens it)."""
    try:
        return _current()[1].rotate(ciphertext.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "The stored credentials cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS"
        ) from None
