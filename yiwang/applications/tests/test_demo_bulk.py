"""The parts of the applications demo built in bulk stay true to the services.

The demo walks every case through the services but inserts the applicants' uploads of its one PDF
as rows (``demo._Builder._complete``). These tests check that the rows are what the service would
have written, and that an official (or the applicant, for a 补正) opening any kind of in-progress
demo case can act on it through the real services."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.applications import demo, services
from yiwang.applications.models import Attachment, Blob, Case, Task
from yiwang.catalog import demo as catalog_demo
from yiwang.catalog import search
from yiwang.identity import demo as identity_demo
from yiwang.identity.models import User
from yiwang.lib import filetypes

pytestmark = pytest.mark.django_db

# The decision that moves each kind of open task on (the first of its decisions would do too,
# but a rejection ends the case: these are the ways forward).
FORWARD = {"clerk": {"accept": "accept", "complete": "complete"}, "reviewer": "pass", "approver": "approve"}


def _build() -> dict:
    identity_demo.build()
    search.clear_caches()
    catalog_demo.build(cities=1, kinds=["SCJG"], counties=False)
    return demo.build(cases=40)


def _forward(task: Task) -> str:
    if task.role == "applicant":
        return "resubmit"
    choice = FORWARD[task.role]
    return choice[task.name] if isinstance(choice, dict) else choice


def test_bulk_attachments_are_what_the_service_writes():
    _build()
    attachments = list(Attachment.objects.select_related("case", "material", "blob"))
    assert len(attachments) > 40
    blob = Blob.objects.get()  # the demo uploads one PDF: stored once, by content hash
    assert default_storage.exists(blob.storage_name)
    with default_storage.open(blob.storage_name) as stored:
        assert stored.read() == demo.PDF
    assert blob.kind == filetypes.sniff_file(SimpleUploadedFile("x.pdf", demo.PDF))
    for attachment in attachments:
        assert attachment.blob_id == blob.sha256
        assert attachment.material.item_id == attachment.case.item_id
        assert attachment.material.applicant_submits
        assert attachment.filename == filetypes.safe_name(f"{attachment.material.name[:40]}.pdf", blob.kind)
        # Uploaded on the replayed clock, before the case was submitted.
        assert attachment.uploaded_at == attachment.case.created_at
        if attachment.case.submitted_at is not None:
            assert attachment.uploaded_at <= attachment.case.submitted_at
    # Every case past the draft had its required materials (the service checked it on submit).
    for case in Case.objects.exclude(status=Case.Status.DRAFT).select_related("item"):
        missing = [k for k in services.prereview(case) if k.startswith("material-")]
        assert missing == [], case.number


def test_every_kind_of_open_demo_case_can_be_claimed_and_decided():
    _build()
    officials = {role: User.objects.get(username=role) for role in ("clerk", "reviewer", "approver")}
    open_tasks = Task.objects.filter(state=Task.State.OPEN).select_related("case__applicant")
    kinds: dict[tuple, Task] = {}
    for task in open_tasks.order_by("pk"):
        kinds.setdefault((task.case.process_id, task.name, task.role, task.case_status), task)
    assert {k[2] for k in kinds} == {"clerk", "reviewer", "approver", "applicant"}
    assert any(k[3] == Case.Status.SUPPLEMENT for k in kinds)
    acted = set()
    for kind, task in kinds.items():
        before = task.case.status
        if task.role == "applicant":
            actor = task.case.applicant
            upload = SimpleUploadedFile("补正材料.pdf", demo.PDF, content_type="application/pdf")
            material = services.required_materials(task.case)[-1]
            services.attachment_add(actor=actor, case=task.case, material_id=material.pk, upload=upload)
        else:
            actor = task.claimed_by or officials[task.role]
            if task.department_id != officials["clerk"].official.department_id:
                continue  # a bundle case of another department: its stand-in officials act
            task = services.task_claim(actor=actor, task=task)
            assert task.claimed_by_id == actor.pk
        case = services.task_complete(actor=actor, task=task, decision=_forward(task), comment="")
        task.refresh_from_db()
        assert task.state == Task.State.DONE, kind
        assert task.closed_by_id == actor.pk
        assert case.status != before or case.tasks.filter(state=Task.State.OPEN).exists(), kind
        assert case.events.filter(decision=_forward(task)).exists(), kind
        acted.add((task.name, task.role))
    # Every step of the 补正 process and the 秒批 referral, as the demo leaves them open.
    steps = {("accept", "clerk"), ("review", "reviewer"), ("approve", "approver"), ("complete", "clerk")}
    assert steps <= acted
    assert {role for _name, role in acted} == {"clerk", "reviewer", "approver", "applicant"}
