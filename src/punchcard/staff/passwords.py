"""Password hashing with argon2id (argon2-cffi's RFC 9106 defaults): slow and memory-hard, so a stolen hash is costly
to guess. Hashes made with older parameters are upgraded at the next successful sign-in."""

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


@lru_cache(maxsize=1)
def decoy_hash() -> str:
    """Checked against when the e-mail is unknown, so that answering takes as long as for a real account."""
    return _hasher.hash("not the password of anyone")
