"""How a person's identity number is stored: ciphertext, blind index and masked form.

One place, so services, demo data, bulk imports and test personas store it identically.
"""

from yiwang.lib import crypto
from yiwang.lib.masking import mask_id_number

ID_NUMBER_PURPOSE = "identity.person.id_number"
TOTP_PURPOSE = "identity.user.totp_secret"

# Identity's stored encrypted fields: (model label, field, purpose), registered from
# IdentityConfig.ready() into yiwang.core.encrypted_fields, which `yiwang rotate-keys` walks
# (every app registers its own there: identity never names the apps above it).
ENCRYPTED_FIELDS = (
    ("identity.Person", "id_number_ciphertext", ID_NUMBER_PURPOSE),
    ("identity.User", "totp_secret_ciphertext", TOTP_PURPOSE),
)


def id_number_index(id_number: str) -> str:
    """The blind index of a normalised identity number."""
    return crypto.blind_index(id_number, ID_NUMBER_PURPOSE)


def id_number_fields(id_number: str) -> dict:
    """The Person field values for a normalised identity number."""
    return {
        "id_number_ciphertext": crypto.encrypt(id_number, ID_NUMBER_PURPOSE),
        "id_number_index": id_number_index(id_number),
        "id_number_masked": mask_id_number(id_number),
    }


def id_number_of(person) -> str:
    """Decrypt a person's identity number. Callers must have checked
    ``permissions.can_see_full_id_number`` (and audit the access where it matters)."""
    return crypto.decrypt(person.id_number_ciphertext, ID_NUMBER_PURPOSE)
