"""Licences' data at rest: claims, issued credentials and issuer private keys, encrypted with the
platform's field encryption keys (AES-256-GCM, ``yiwang.lib.crypto``) under licences' own
purposes, so a value of one purpose never decrypts as another (nor as identity's)."""

from yiwang.lib import crypto

CLAIMS_PURPOSE = "licences.licence.claims"
CREDENTIAL_PURPOSE = "licences.licence.credential"
KEY_PURPOSE = "licences.issuer_key.private"
PURPOSES = frozenset({CLAIMS_PURPOSE, CREDENTIAL_PURPOSE, KEY_PURPOSE})
# The stored encrypted fields (model, field, purpose), registered from LicencesConfig.ready() into
# yiwang.core.encrypted_fields so `yiwang rotate-keys` re-encrypts them (with seals.ENCRYPTED_FIELDS).
# A presentation's text is a presentation of the credential, stored under the credential's purpose.
ENCRYPTED_FIELDS = (
    ("licences.Licence", "claims_ciphertext", CLAIMS_PURPOSE),
    ("licences.Licence", "credential_ciphertext", CREDENTIAL_PURPOSE),
    ("licences.IssuerKey", "private_ciphertext", KEY_PURPOSE),
    ("licences.Presentation", "text_ciphertext", CREDENTIAL_PURPOSE),
)


def seal(value: str, purpose: str) -> bytes:
    if purpose not in PURPOSES:
        raise ValueError(f"not a licences purpose: {purpose}")
    return crypto.encrypt(value, purpose)


def unseal(blob: bytes | memoryview, purpose: str) -> str:
    if purpose not in PURPOSES:
        raise ValueError(f"not a licences purpose: {purpose}")
    return crypto.decrypt(blob, purpose)
