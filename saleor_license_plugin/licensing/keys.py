"""License keys: generate, read back, check, digest, seal.

A key is 120 random bits from :mod:`secrets` written as 24 symbols of Crockford's base32 plus one
Luhn mod 32 check symbol, in five groups of five for reading aloud::

    7KQ2M-XW9TD-R4HNC-0PBVE-Z3F6A

Reading back ignores case, spaces and dashes, and takes ``O`` for ``0`` and ``I``/``L`` for ``1``
(letters that are not in the alphabet because they are read as digits). The check symbol catches
every single mistyped symbol and most swaps of two neighbours.

Keys are looked up by an HMAC digest under the configured key secret, never by scanning, and are
kept at rest encrypted under a key derived from the same secret so the owner can be shown them
again; a database dump alone yields neither.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from saleor_license_plugin.licensing.errors import MalformedKey

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
BITS = 120
DATA_SYMBOLS = BITS // 5  # 24
KEY_LENGTH = DATA_SYMBOLS + 1  # with the check symbol
GROUP = 5
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = str.maketrans("", "", " -\t\n_")
N = len(ALPHABET)


def _check_symbol(data: str) -> str:
    """Luhn mod 32 over ``data``: the symbol that makes the whole key's checksum zero."""
    total = 0
    double = True  # the rightmost data symbol is doubled, as the check symbol follows it
    for char in reversed(data):
        value = _VALUE[char]
        if double:
            value *= 2
            value = value // N + value % N
        total += value
        double = not double
    return ALPHABET[(N - total % N) % N]


def generate() -> str:
    """A new key in canonical (ungrouped) form."""
    number = secrets.randbits(BITS)
    data = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(DATA_SYMBOLS)))
    return data + _check_symbol(data)


def format_key(canonical: str) -> str:
    """Grouped for display: ``XXXXX-XXXXX-XXXXX-XXXXX-XXXXX``."""
    return "-".join(canonical[i : i + GROUP] for i in range(0, len(canonical), GROUP))


def normalize(text: str) -> str:
    """Canonical form of a key as typed, or :class:`MalformedKey` saying what is wrong."""
    if not isinstance(text, str):
        raise MalformedKey("A license key must be text.")
    if len(text) > 4 * KEY_LENGTH:
        raise MalformedKey(f"A license key has {KEY_LENGTH} characters.")
    canonical = text.translate(_IGNORED).upper().translate(_ALIASES)
    if len(canonical) != KEY_LENGTH:
        raise MalformedKey(
            f"A license key has {KEY_LENGTH} characters (ignoring dashes and spaces); "
            f"this one has {len(canonical)}."
        )
    for position, char in enumerate(canonical, start=1):
        if char not in _VALUE:
            raise MalformedKey(f"Character {position} of the license key is not valid.")
    if _check_symbol(canonical[:-1]) != canonical[-1]:
        raise MalformedKey("The license key does not check out: a character is mistyped.")
    return canonical


def hint(canonical: str) -> str:
    """The last group, enough for an owner to tell their keys apart in a list."""
    return canonical[-GROUP:]


@lru_cache(maxsize=8)
def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"saleor-license-plugin/" + purpose
    ).derive(secret)


def digest(canonical: str, secret: bytes) -> str:
    """Keyed lookup digest (HMAC-SHA256, hex) of a canonical key."""
    return hmac.new(_derive(secret, b"key-digest"), canonical.encode(), hashlib.sha256).hexdigest()


def pseudonym(identity: str, secret: bytes) -> str:
    """Keyed digest (HMAC-SHA256, hex) of a rate-limit identity (a client address, a key
    digest): a counter's name, which a cache dump cannot reverse by trying every address."""
    return hmac.new(
        _derive(secret, b"rate-limit-identity"), identity.encode(), hashlib.sha256
    ).hexdigest()


def _fernet(secret: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(secret, b"key-at-rest")))


def seal(canonical: str, secret: bytes) -> str:
    return _fernet(secret).encrypt(canonical.encode()).decode()


def unseal(sealed: str, secret: bytes) -> str:
    try:
        return _fernet(secret).decrypt(sealed.encode()).decode()
    except InvalidToken as exc:  # the key secret changed since the key was stored
        raise RuntimeError(
            "Stored license key cannot be decrypted with the current KEY_SECRET."
        ) from exc
