"""Ed25519 signatures of publication manifests: a commission signs, anyone holding its public key checks.

The signature covers the manifest's exact bytes and lives beside it (`manifest.sig`), so the manifest
itself stays a pure function of the log. Keys are PEM files outside the warehouse; the private key is
named by `ELECTIONS_SIGNING_KEY` and never enters the warehouse, the log or a publication.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pipelines.core.errors import InputError

SIGNING_KEY_ENV = "ELECTIONS_SIGNING_KEY"
PRIVATE_KEY_FILE = "signing-key.pem"
PUBLIC_KEY_FILE = "signing-key.pub.pem"
ALGORITHM = "Ed25519"


def generate_key_pair(folder: Path) -> tuple[Path, Path]:
    """Write a new key pair into `folder`: the private key readable by its owner only (0600). Refuses
    to overwrite an existing key, which may already sign published manifests."""
    private_path, public_path = folder / PRIVATE_KEY_FILE, folder / PUBLIC_KEY_FILE
    for path in (private_path, public_path):
        if path.exists():
            raise InputError("a key already exists here; choose another folder", file=str(path))
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def configured_signing_key() -> Ed25519PrivateKey | None:
    """The private key `ELECTIONS_SIGNING_KEY` names, or None when no key is configured."""
    name = os.environ.get(SIGNING_KEY_ENV, "").strip()
    return load_private_key(Path(name)) if name else None


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read_key(path), password=None)
    except (ValueError, TypeError):  # not PEM, or protected by a passphrase
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"not an Ed25519 private key in PEM form (${SIGNING_KEY_ENV})", file=str(path))
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_read_key(path))
    except ValueError:
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("not an Ed25519 public key in PEM form", file=str(path))
    return key


def _read_key(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the key: {exc.strerror}", file=str(path)) from None


def key_id(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key: names the key that signed, without trusting the signer's word."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign_manifest(key: Ed25519PrivateKey, manifest: bytes) -> bytes:
    """The content of `manifest.sig` (Ed25519 is deterministic: the same key and bytes, the same file)."""
    record = {
        "algorithm": ALGORITHM,
        "public_key_sha256": key_id(key.public_key()),
        "signature": base64.b64encode(key.sign(manifest)).decode("ascii"),
    }
    return (json.dumps(record, indent=2) + "\n").encode("utf-8")


def signature_problem(signature_file: bytes, manifest: bytes, key: Ed25519PublicKey) -> str | None:
    """Why `signature_file` is not this key's signature of exactly these manifest bytes; None if it is."""
    try:
        record = json.loads(signature_file)
        signature = base64.b64decode(record["signature"], validate=True)
    except (ValueError, KeyError, TypeError):
        return "not a signature record"
    if record.get("algorithm") != ALGORITHM:
        return f"algorithm {record.get('algorithm')!r}, expected {ALGORITHM}"
    if record.get("public_key_sha256") != key_id(key):
        return (
            f"signed by key {str(record.get('public_key_sha256'))[:16]}..., not by the key given "
            f"({key_id(key)[:16]}...)"
        )
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        return "the signature does not match the manifest (manifest or signature altered)"
    return None
