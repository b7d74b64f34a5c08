"""Payment data at rest: model fields stored encrypted with Fernet keys from the environment.

`FIELD_ENCRYPTION_KEYS` lists Fernet keys newest first: the first encrypts, every one decrypts
(MultiFernet), so a new key is put in front, `manage.py encryption_rotate` re-encrypts every row
with it, and the old key is then dropped. A value that no configured key decrypts raises: a wrong
key fails loudly rather than showing ciphertext or nothing.

Fernet output is randomised, so encrypted columns cannot be searched or compared in SQL; where a
lookup is needed (the blocklist), a keyed digest (`field_digest`) is stored beside the value.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionError(Exception):
    """A stored value no configured key decrypts (a missing key, or a value never encrypted)."""


@functools.cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: payment data cannot be read or written.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from None


def _keys() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_str(value: str) -> str:
    return _keys().encrypt(value.encode()).decode("ascii")


def decrypt_str(token: str) -> str:
    try:
        return _keys().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError):
        raise DecryptionError("a stored encrypted value cannot be decrypted with FIELD_ENCRYPTION_KEYS") from None


def rotate_str(token: str) -> str:
    """The same plaintext encrypted with the newest key."""
    try:
        return _keys().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise DecryptionError("a stored encrypted value cannot be decrypted with FIELD_ENCRYPTION_KEYS") from None


def encrypt_bytes(value: bytes) -> bytes:
    return _keys().encrypt(bytes(value))


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _keys().decrypt(bytes(token))
    except InvalidToken:
        raise DecryptionError("a stored encrypted value cannot be decrypted with FIELD_ENCRYPTION_KEYS") from None


def rotate_bytes(token: bytes) -> bytes:
    try:
        return _keys().rotate(bytes(token))
    except InvalidToken:
        raise DecryptionError("a stored encrypted value cannot be decrypted with FIELD_ENCRYPTION_KEYS") from None


def field_digests(value: str) -> list[str]:
    """Keyed digests of `value` for equality lookups, one per configured key, newest first.

    The same value gives the same digest under one key; without the key it reveals nothing (payer
    references are short numbers, so an unkeyed hash would be easy to reverse). Stored digests use
    the newest key (`encryption_rotate` recomputes them); lookups try every key, so they keep
    working while keys rotate.
    """
    return [
        hmac.new(hashlib.sha256(f"knowpay-digest:{key}".encode()).digest(), value.encode(), hashlib.sha256).hexdigest()
        for key in settings.FIELD_ENCRYPTION_KEYS
    ]


def field_digest(value: str) -> str:
    """The digest of `value` to store: under the newest key."""
    return field_digests(value)[0]


def mask(value: str, *, keep: int = 2) -> str:
    """How an encrypted value is shown to people: its first and last characters, the rest hidden.

    "13800138000" → "13*******00", "wang@example.com" → "wa************om"; short values show only stars.
    """
    if not value:
        return ""
    if len(value) <= keep * 2:
        return "*" * len(value)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


class EncryptedCharField(models.CharField):
    """A CharField whose value is stored as a Fernet token in a text column.

    `max_length` limits the plaintext (forms and validation); the column itself is unbounded
    text, since the token is longer. Empty stays empty, so "not set" needs no decryption.
    """

    def get_internal_type(self) -> str:
        return "TextField"

    def db_type(self, connection):
        return connection.data_types["TextField"]

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if value is None or value == "":
            return value
        return encrypt_str(str(value))

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt_str(value)

    def get_lookup(self, lookup_name):
        # Randomised ciphertext cannot be compared in SQL; only "is it empty / null" makes sense.
        if lookup_name not in ("exact", "isnull"):
            return None
        return super().get_lookup(lookup_name)


class EncryptedBinaryField(models.BinaryField):
    """A BinaryField stored as a Fernet token (raw gateway messages, which name the payer)."""

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is not None and len(value):
            value = encrypt_bytes(value)
        return super().get_db_prep_value(value, connection, prepared)

    def from_db_value(self, value, expression, connection):
        if value is None or not len(value):
            return value if value is None else b""
        return decrypt_bytes(value)


def rows_convert(connection, *, table: str, columns: list[str], convert, pk: str = "id", batch: int = 1000) -> int:
    """Rewrite the non-empty values of `columns` in every row of `table` with `convert`, in batches.

    Raw SQL, for data migrations (the model field would try to decrypt the plaintext it loads) and
    key rotation (no save(): no timestamps or history for a change of key). Returns rows changed.
    """
    quote = connection.ops.quote_name
    select = (
        f"SELECT {quote(pk)}, {', '.join(quote(c) for c in columns)} FROM {quote(table)} "  # noqa: S608 (names, not input)
        f"WHERE {quote(pk)} > %s ORDER BY {quote(pk)} LIMIT {int(batch)}"
    )
    update = (
        f"UPDATE {quote(table)} SET {', '.join(f'{quote(c)} = %s' for c in columns)} "  # noqa: S608
        f"WHERE {quote(pk)} = %s"
    )
    changed, last = 0, 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(select, [last])
            rows = cursor.fetchall()
            if not rows:
                return changed
            for row_pk, *values in rows:
                new = [convert(value) if value else value for value in values]
                if new != values:
                    cursor.execute(update, [*new, row_pk])
                    changed += 1
                last = row_pk


def rows_encrypt(schema_editor, *, table: str, columns: list[str], reverse: bool = False) -> int:
    """For data migrations: encrypt (or, with `reverse`, decrypt) the non-empty values of `columns`."""
    convert = decrypt_str if reverse else encrypt_str
    return rows_convert(schema_editor.connection, table=table, columns=columns, convert=convert)
