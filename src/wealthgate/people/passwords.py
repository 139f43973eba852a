"""Password hashing with argon2id (argon2-cffi's defaults: RFC 9106's second recommended parameter set).

Only the encoded hash is stored; `verify` is constant-time in the library and tells a caller when a stored
hash was made with older parameters (`needs_rehash`), so hashes are upgraded at the next sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()  # argon2id
MIN_LENGTH = 12
MAX_LENGTH = 1024  # hashing a megabyte per attempt would be a denial of service


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Does `password` match `stored`? False for no stored hash (a single sign-on user) or a malformed one."""
    if stored is None or len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _HASHER.check_needs_rehash(stored)


def problem_with(password: str) -> str | None:
    """Why `password` may not be set, or None. Length counts (NIST SP 800-63B), not character classes."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password may have at most {MAX_LENGTH} characters"
    return None
