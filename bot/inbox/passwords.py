"""Caseworker passwords: scrypt with a random salt, compared in constant time.

The parameters travel inside the stored hash, so they can be raised later without locking
anyone out: an old hash still verifies with the parameters it was made with.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# n=2**14, r=8: about 16 MiB and a few tens of milliseconds a check (OWASP's minimum for
# scrypt), slow enough for a stolen database, quick enough for a login.
N, R, P = 2**14, 8, 1
MIN_LENGTH = 12
#: One-time passwords avoid letters that look alike when read aloud or copied by hand.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=256 * 1024 * 1024, dklen=32)


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, N, R, P)
    return f"scrypt${N}${R}${P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(password, bytes.fromhex(salt), int(n), int(r), int(p))
        return hmac.compare_digest(computed, bytes.fromhex(digest))
    except ValueError:
        return False


#: Checked against when the email is unknown, so that a wrong address costs as long as a
#: wrong password and the timing does not tell which addresses have an account. A random
#: salt and digest with the real parameters: checking it runs the same scrypt, and no
#: password matches it (made without hashing anything: it cost start-up a scrypt run).
DUMMY_HASH = f"scrypt${N}${R}${P}${secrets.token_hex(16)}${secrets.token_hex(32)}"


def one_time_password() -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))


def weakness(password: str, email: str) -> str | None:
    """Why a new password is refused (in French, shown as is), or None."""
    if len(password) < MIN_LENGTH:
        return f"Le mot de passe doit faire au moins {MIN_LENGTH} caractères."
    if email.split("@")[0].lower() in password.lower():
        return "Le mot de passe ne doit pas contenir votre adresse."
    if len(set(password)) < 5:
        return "Le mot de passe est trop répétitif."
    return None
