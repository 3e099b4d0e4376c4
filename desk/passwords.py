"""Password hashing for console users: stdlib scrypt with a per-user random salt.

Stored form: ``scrypt$<n>$<r>$<p>$<salt, base64>$<hash, base64>``, so the cost can be raised later
and old hashes still verify; ``needs_rehash`` tells which ones to hash again at the next successful
sign-in (desk.agents). Pure; nothing is loaded at import.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading

SCHEME = "scrypt"
N, R, P = 2**17, 8, 1  # current guidance: 128 MiB (128 * r * N bytes) and a few hundred ms per hash
MAX_N = 2**20  # a stored hash asking for more is refused rather than computed
MAXMEM = 128 * R * N + 32 * 1024 * 1024  # hashlib's default cap (32 MiB) is below what N=2^17 needs
# at most this many hashes at once per process (128 MiB each): a flood of sign-ins queues, memory stays bounded
_HASHING = threading.BoundedSemaphore(4)
KEY_BYTES = 32
SALT_BYTES = 16
MIN_LENGTH = 10


class WeakPassword(ValueError):
    pass


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    if not (1 < n <= MAX_N and 0 < r <= 16 and 0 < p <= 4):
        raise ValueError("scrypt parameters out of range")
    with _HASHING:
        return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                              maxmem=max(MAXMEM, 128 * r * n * p + 32 * 1024 * 1024))


def hash_password(password: str, *, check_strength: bool = True) -> str:
    """A new hash at the current cost; ``check_strength=False`` only to upgrade an existing password."""
    if check_strength and len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    salt = secrets.token_bytes(SALT_BYTES)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(_scrypt(password, salt, N, R, P))}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """True when a stored hash is of another scheme or below the current cost (upgrade it)."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCHEME:
        return True
    try:
        return (int(parts[1]), int(parts[2]), int(parts[3])) != (N, R, P)
    except ValueError:
        return True


# a fixed hash to verify against when the user does not exist, so both paths cost the same
_DUMMY = f"{SCHEME}${N}${R}${P}${_b64(b'0' * SALT_BYTES)}${_b64(b'0' * KEY_BYTES)}"


def burn_time(password: str) -> None:
    verify_password(password, _DUMMY)
