"""Secrets at rest: values the server must read back (webhook signing secrets, integration tokens),
sealed with AES-256-GCM under a key derived from `POSTMETRIC_SECRET_KEY`.

A sealed value is text, `pmenc:v1:<key id>:<base64url(nonce + ciphertext + tag)>`, so it fits the
string column the plain value had. The AES key is HKDF-SHA256 of the secret key with a purpose
label, so the same secret key signing share cookies never serves as an encryption key itself. Each
value is bound to where it is stored (`context`, e.g. "revenue_providers.webhook_secret:12:stripe"):
a sealed value copied into another row does not open there.

Secondary responsibilities:
1. Rotation: `SecretBox(current, previous=(old, …))` opens values sealed under any of those keys
   and seals under the current one; `needs_sealing` says which stored values are plaintext from
   before encryption or under a previous key, for `postmetric secrets rotate`.
2. Legacy plaintext: a stored value without the `pmenc:` prefix is a secret stored before
   encryption existed; `open` returns it as it is (it is sealed at the next start, see
   `revenue/providers/settings.py`).
3. `derive_key`: a key of its own for each other use of the secret key (the keyed hash that names
   rate-limit counts in Redis).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SEALED_PREFIX = "pmenc:v1:"
_PURPOSE = "postmetric secrets at rest v1"
_NONCE_BYTES = 12


class SecretUnreadable(Exception):
    """A sealed value none of the configured keys opens (the secret key changed without rotation)."""


def derive_key(secret_key: str, *, purpose: str) -> bytes:
    """32 bytes for one `purpose` (HKDF-SHA256): each use of the secret key gets its own, unrelated key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret_key.encode())


class _Key:
    def __init__(self, secret_key: str) -> None:
        material = derive_key(secret_key, purpose=_PURPOSE)
        self.aead = AESGCM(material)
        # Names the key in each sealed value, so opening tries the right key and rotation finds old ones;
        # derived from the AES key, it says nothing about the secret key.
        self.id = hashlib.sha256(b"key id:" + material).hexdigest()[:8]


class SecretBox:
    """Seals and opens secrets under the current key; opens those sealed under previous keys too."""

    def __init__(self, secret_key: str, *, previous: Iterable[str] = ()) -> None:
        if not secret_key:
            raise ValueError("secret_key: is empty")
        self._current = _Key(secret_key)
        self._keys = {self._current.id: self._current}
        for old in previous:
            if old:
                key = _Key(old)
                self._keys.setdefault(key.id, key)

    def seal(self, plaintext: str, *, context: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.aead.encrypt(nonce, plaintext.encode(), context.encode())
        return f"{SEALED_PREFIX}{self._current.id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, *, context: str) -> str:
        """The secret in `stored` (a sealed value, or legacy plaintext as it is); SecretUnreadable otherwise."""
        if not is_sealed(stored):
            return stored
        key_id, _, payload = stored.removeprefix(SEALED_PREFIX).partition(":")
        key = self._keys.get(key_id)
        if key is None:
            raise SecretUnreadable(f"sealed under key {key_id}, which is neither POSTMETRIC_SECRET_KEY nor one "
                                   "of POSTMETRIC_SECRET_KEY_PREVIOUS")
        try:
            raw = base64.b64decode(payload.encode(), altchars=b"-_", validate=True)
            return key.aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode()).decode()
        except (InvalidTag, ValueError):  # binascii.Error is a ValueError
            raise SecretUnreadable(f"the value sealed under key {key_id} is damaged or belongs elsewhere") from None

    def needs_sealing(self, stored: str) -> bool:
        """Whether `stored` is plaintext or sealed under another key than the current one."""
        if not is_sealed(stored):
            return True
        key_id = stored.removeprefix(SEALED_PREFIX).partition(":")[0]
        return not hmac.compare_digest(key_id, self._current.id)


def is_sealed(stored: str) -> bool:
    return stored.startswith(SEALED_PREFIX)
