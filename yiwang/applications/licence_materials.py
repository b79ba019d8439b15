"""免证办: a material the government issued as an electronic licence is not uploaded again.

A catalog material that is ``licence_replaceable`` names a ``licence_type``; the licence types
the platform issues under that Chinese name (``licences.selectors.licence_types_replacing``)
satisfy it. When the applicant holds one in force (the applicant's own, or, on a case for an
enterprise, the enterprise's), the application form offers it; with the applicant's explicit
consent (``case_licence_use``, audited) the material is replaced: it leaves the upload list
and pre-review (``replaced_ids``, read by ``services.required_materials``) and the officials
see the licence and its verification instead of a file. Without consent nothing changes.

A licence that stops being in force (suspended, revoked, expired) or stops being the
applicant's no longer replaces the material: pre-review asks for the upload again.

A life event's combined form (一件事一次办) asks a material several of its items share once; it
offers a licence for it once too (``bundle_offers``), and using it records the consent on every
draft that asks for the material, each through ``case_licence_use`` (``services.bundle_licence_use``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.catalog.models import Material
from yiwang.identity import selectors as identity_selectors
from yiwang.licences import selectors as licence_selectors
from yiwang.licences import services as licence_services
from yiwang.licences import verify as licence_verify

from . import workflow
from .models import Case, CaseLicence

USE_EVENT = "applications:licence:use"
WITHDRAW_EVENT = "applications:licence:withdraw"
VALID = "valid"


def issued_type_names() -> list[str]:
    """The Chinese names of the licence types the platform issues (catalog's guide asks)."""
    return [lt.name_zh for lt in licence_selectors.licence_types()]


def _replaceable(material: Material) -> bool:
    return bool(material.licence_replaceable and material.licence_type)


def satisfying_licences(case: Case, material: Material) -> list:
    """The licences in force of the case's applicant (or of its enterprise) whose type is one
    the material names. Never another person's: ``licences_for_user`` gives only the user's
    own and their enterprises', narrowed here to the party the case is for."""
    if not _replaceable(material):
        return []
    type_ids = {lt.pk for lt in licence_selectors.licence_types_replacing(material.licence_type)}
    if not type_ids:
        return []
    person = identity_selectors.person_of(case.applicant)
    found = []
    for licence in licence_selectors.licences_for_user(case.applicant).filter(type_id__in=type_ids):
        own = person is not None and licence.holder_person_id == person.pk
        enterprise = case.enterprise_id is not None and licence.holder_enterprise_id == case.enterprise_id
        if (own or enterprise) and licence.effective_state == VALID:
            found.append(licence)
    return found


def replaced_ids(case: Case, materials) -> set[int]:
    """Ids of ``materials`` replaced on this case by a licence still in force and still the
    applicant's. No query when none of them may be replaced or the case is not saved."""
    candidates = {m.pk: m for m in materials if _replaceable(m)}
    if case.pk is None or not candidates:
        return set()
    used = CaseLicence.objects.filter(case=case, material_id__in=candidates).select_related("licence")
    ids = set()
    for row in used:
        held = {lic.pk for lic in satisfying_licences(case, candidates[row.material_id])}
        if row.licence_id in held:
            ids.add(row.material_id)
    return ids


@dataclass
class Offer:
    material: Material
    licences: list
    used: CaseLicence | None = None
    in_force: bool = True
    targets: list = field(default_factory=list)  # [(case, material)] a bundle's offer covers


@dataclass
class Offers:
    rows: list[Offer] = field(default_factory=list)

    @property
    def material_ids(self) -> set[int]:
        replaced = [o for o in self.rows if o.used is not None and o.in_force]
        return {o.material.pk for o in replaced} | {m.pk for o in replaced for _c, m in o.targets}


def offers(case: Case) -> Offers:
    """What the application form offers: each replaceable material the applicant holds a
    licence for, and those already replaced (with whether the licence is still in force)."""
    used = {row.material_id: row for row in CaseLicence.objects.filter(case=case).select_related("licence")}
    result = Offers()
    for material in case.item.materials.all():
        licences = satisfying_licences(case, material)
        row = used.get(material.pk)
        if row is not None:
            result.rows.append(Offer(material, licences, row, row.licence_id in {lic.pk for lic in licences}))
        elif licences:
            result.rows.append(Offer(material, licences))
    return result


def bundle_offers(drafts: list[Case]) -> Offers:
    """The offers of a life event's combined form: one per material asked once
    (``services.material_key``) that a licence may replace in every draft asking for it. The
    licences offered satisfy it in all of them (``offers`` of each draft); it counts as replaced
    when every draft uses a licence still in force for it, and ``targets`` lists those drafts."""
    from .services import material_key

    asked: dict[str, int] = {}
    merged: dict[str, list[tuple[Case, Offer]]] = {}
    for case in drafts:
        for material in case.item.materials.all():
            key = material_key(material)
            asked[key] = asked.get(key, 0) + 1
        for offer in offers(case).rows:
            merged.setdefault(material_key(offer.material), []).append((case, offer))
    result = Offers()
    for key, rows in merged.items():
        if len(rows) != asked[key]:  # one draft asks for it where no licence replaces it
            continue
        common = set.intersection(*({lic.pk for lic in o.licences} for _c, o in rows))
        licences = [lic for lic in rows[0][1].licences if lic.pk in common]
        used = [o.used for _c, o in rows if o.used is not None]
        all_used = len(used) == len(rows)
        if not licences and not used:
            continue
        result.rows.append(
            Offer(
                material=rows[0][1].material,
                licences=licences,
                used=used[0] if all_used else None,
                in_force=all_used and all(o.in_force for _c, o in rows),
                targets=[(case, o.material) for case, o in rows],
            )
        )
    return result


def _lock_for_applicant(actor, case: Case) -> Case:
    case = Case.objects.select_for_update().select_related("item").get(pk=case.pk)
    if actor is None or case.applicant_id != actor.pk:
        raise PermissionDenied("only the applicant may do this")
    if case.status not in workflow.APPLICANT_EDITS:
        from .services import WrongState

        raise WrongState(_("This application can no longer be changed."))
    return case


@transaction.atomic
def case_licence_use(*, actor, case: Case, material_id: int, licence_id: int, consent: bool) -> CaseLicence:
    """Replace a material of the applicant's case by one of their licences, with their consent
    (``consent`` must be True: the checkbox they ticked). Audited as ``applications:licence:use``
    with the material and the licence's number; ``InvalidInput`` without consent, for a
    material that cannot be replaced or a licence that does not satisfy it."""
    from .services import InvalidInput

    case = _lock_for_applicant(actor, case)
    if not consent:
        raise InvalidInput(
            _("Tick the box to agree that the department uses your electronic licence."),
            {"consent": _("Your consent is needed.")},
        )
    material = Material.objects.filter(pk=material_id, item_id=case.item_id).first()
    if material is None or not _replaceable(material):
        raise InvalidInput(_("This material cannot be replaced by an electronic licence."))
    licence = next((lic for lic in satisfying_licences(case, material) if lic.pk == licence_id), None)
    if licence is None:
        raise InvalidInput(
            _("Choose one of your electronic licences in force for “%(name)s”.") % {"name": material.name},
            {"licence": _("Not one of your licences for this material.")},
        )
    row, _created = CaseLicence.objects.update_or_create(
        case=case,
        material=material,
        defaults={
            "licence": licence,
            "licence_number": licence.number,
            "licence_type": licence.type.label,
            "consented_by": actor,
        },
    )
    audit.record(
        actor=actor,
        event=USE_EVENT,
        target=case,
        data={"material": material.pk, "licence": licence.number, "consent": True},
    )
    return row


@transaction.atomic
def case_licence_withdraw(*, actor, case: Case, material_id: int) -> None:
    """Take the consent back: the material is asked for again. Audited."""
    case = _lock_for_applicant(actor, case)
    row = CaseLicence.objects.filter(case=case, material_id=material_id).first()
    if row is None:
        return
    row.delete()
    audit.record(
        actor=actor,
        event=WITHDRAW_EVENT,
        target=case,
        data={"material": material_id, "licence": row.licence_number},
    )


@dataclass
class OfficialRow:
    material_name: str
    licence_type: str
    licence_number: str
    consented_at: object
    verdict: str
    title: str
    message: str
    issuer_name: str


@dataclass
class ForOfficials:
    rows: list[OfficialRow] = field(default_factory=list)
    material_ids: set[int] = field(default_factory=set)


def for_officials(case: Case) -> ForOfficials:
    """The licences used on the case, each verified now (signature, issuer, status, validity)
    as any verifier would, for the officials' review."""
    result = ForOfficials()
    used = CaseLicence.objects.filter(case=case).select_related("material", "licence")
    if not used:
        return result
    trust = licence_selectors.DatabaseTrust()
    for row in used:
        checked = licence_verify.verify(licence_services.licence_credential(row.licence), trust)
        result.rows.append(
            OfficialRow(
                material_name=row.material.name,
                licence_type=row.licence_type,
                licence_number=row.licence_number,
                consented_at=row.consented_at,
                verdict=checked.verdict,
                title=checked.title,
                message=checked.message,
                issuer_name=checked.issuer_name,
            )
        )
        result.material_ids.add(row.material_id)
    return result
