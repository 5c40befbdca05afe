"""Credentials at rest: encrypted with MultiFernet, keys rotate, no plaintext in the DB."""

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection as db

from integrations import crypto
from integrations.models import Connection
from integrations.selectors import connection_credentials

from .factories import ConnectionFactory

pytestmark = pytest.mark.django_db

KEY_A, KEY_B, KEY_C = (Fernet.generate_key().decode() for _ in range(3))
TOKEN = "plaintext-api-token-3b9f2a"


def raw_rows() -> list[tuple]:
    """Every column of every connection row, as the database holds it."""
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM integrations_connection")
        return cursor.fetchall()


def test_roundtrip_and_ciphertext_is_not_the_plaintext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]

    ciphertext = crypto.encrypt(TOKEN)

    assert TOKEN not in ciphertext
    assert crypto.decrypt(ciphertext) == TOKEN
    assert crypto.encrypt(TOKEN) != ciphertext  # a fresh IV every time


def test_the_database_column_holds_no_plaintext_token(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    created = ConnectionFactory(api_token=TOKEN)

    rows = raw_rows()

    assert len(rows) == 1
    assert all(TOKEN not in str(value) for value in rows[0])
    with db.cursor() as cursor:
        cursor.execute("SELECT encrypted_credentials FROM integrations_connection")
        (stored,) = cursor.fetchone()
    assert stored.startswith("gAAAAA")  # a Fernet token
    assert connection_credentials(Connection.objects.get(pk=created.pk)).api_token == TOKEN


def test_the_first_key_encrypts_and_every_key_decrypts(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    old = crypto.encrypt(TOKEN)

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    new = crypto.encrypt(TOKEN)

    assert crypto.decrypt(old) == crypto.decrypt(new) == TOKEN
    assert not crypto.is_current(old)
    assert crypto.is_current(new)
    assert Fernet(KEY_B).decrypt(new.encode()).decode() == TOKEN


def test_no_configured_key_opens_it_raises_without_secrets(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    ciphertext = crypto.encrypt(TOKEN)
    settings.FIELD_ENCRYPTION_KEYS = [KEY_C]

    with pytest.raises(crypto.DecryptionError) as error:
        crypto.decrypt(ciphertext)

    assert TOKEN not in str(error.value)
    assert KEY_A not in str(error.value)
    assert KEY_C not in str(error.value)


def test_the_credentials_are_not_in_the_repr_of_anything(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    created = ConnectionFactory(api_token=TOKEN)

    texts = [repr(created), str(created), repr(connection_credentials(created)),
             repr(Connection.objects.all()), repr(created.__dict__)]  # fmt: skip

    assert all(TOKEN not in text for text in texts)


def test_rotation_re_encrypts_with_the_first_key_and_is_idempotent(settings, capsys):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    first = ConnectionFactory(api_token="token-one-aaaa")
    second = ConnectionFactory(api_token="token-two-bbbb")
    erased = ConnectionFactory(api_token="token-three-cc")
    Connection.objects.filter(pk=erased.pk).update(encrypted_credentials="")
    before = dict(Connection.objects.values_list("pk", "encrypted_credentials"))

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    call_command("rotate_encryption_keys")
    assert capsys.readouterr().out.strip() == (
        "Rotated 2 connection credential(s); 0 already under the current key."
    )
    after = dict(Connection.objects.values_list("pk", "encrypted_credentials"))
    assert after[first.pk] != before[first.pk]
    assert after[second.pk] != before[second.pk]
    assert after[erased.pk] == ""

    call_command("rotate_encryption_keys")  # again: nothing left to do
    assert capsys.readouterr().out.strip() == (
        "Rotated 0 connection credential(s); 2 already under the current key."
    )
    assert dict(Connection.objects.values_list("pk", "encrypted_credentials")) == after

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # the old key is gone: still readable
    tokens = {c.pk: connection_credentials(c).api_token for c in Connection.objects.all()
              if c.encrypted_credentials}  # fmt: skip
    assert tokens == {first.pk: "token-one-aaaa", second.pk: "token-two-bbbb"}


def test_rotation_reports_rows_no_key_opens_and_leaves_them(settings, capsys):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    lost = ConnectionFactory(api_token=TOKEN)
    stored = Connection.objects.get(pk=lost.pk).encrypted_credentials
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    kept = ConnectionFactory(api_token="token-under-b")

    with pytest.raises(CommandError) as error:
        call_command("rotate_encryption_keys")

    assert str(lost.pk) in str(error.value)
    assert TOKEN not in str(error.value)
    assert "Rotated 0 connection credential(s); 1 already" in capsys.readouterr().out
    assert Connection.objects.get(pk=lost.pk).encrypted_credentials == stored
    assert connection_credentials(Connection.objects.get(pk=kept.pk)).api_token == "token-under-b"
