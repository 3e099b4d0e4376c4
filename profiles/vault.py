"""Sealed personal data: the raw phone and ID number, readable only through an audited reveal.

``seal``/``unseal`` are Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from the secret
``PII_VAULT_KEY`` (SHA-256 → url-safe base64). Lookups keep using ``customers.*_hash``; the vault is
only opened by ``PiiVault.reveal`` (the console writes the audit row first).
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy.orm import sessionmaker

from profiles.models import Customer, CustomerVault

DEV_VAULT_KEY = "dev-only-vault-key"
FIELDS = ("phone", "id_number", "name")


class VaultError(RuntimeError):
    """The sealed value cannot be opened (another key) or is not stored."""


def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode("utf-8")).digest()))


def seal(value: str, secret: str) -> str:
    return _fernet(secret).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(token: str, secret: str) -> str:
    try:
        return _fernet(secret).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise VaultError("sealed with another key") from exc


class PiiVault:
    def __init__(self, session_factory: sessionmaker, *, secret: str) -> None:
        self._session_factory = session_factory
        self._secret = secret

    def store(self, customer_id: str, *, phone: str | None, id_number: str | None) -> None:
        with self._session_factory.begin() as session:
            row = session.get(CustomerVault, customer_id) or CustomerVault(customer_id=customer_id)
            row.phone_sealed = seal(phone, self._secret) if phone else None
            row.id_number_sealed = seal(id_number, self._secret) if id_number else None
            session.merge(row)

    def reveal(self, customer_id: str, field: str) -> str:
        """The raw value of one field; VaultError when it is not stored."""
        if field not in FIELDS:
            raise ValueError(f"unknown field {field!r}")
        with self._session_factory() as session:
            if field == "name":
                customer = session.get(Customer, customer_id)
                if customer is None:
                    raise VaultError("no such customer")
                return str(customer.name)
            row = session.get(CustomerVault, customer_id)
            token = getattr(row, f"{field}_sealed", None) if row is not None else None
            if not token:
                raise VaultError("not stored")
            return unseal(token, self._secret)
