"""Fixtures for applications: an item of department X with materials, officials with one role
each, and helpers to walk a case through its process."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.applications import services
from yiwang.applications.models import Case, Task
from yiwang.catalog.models import Material, ServiceItem
from yiwang.catalog.tests.factories import make_item
from yiwang.conftest import make_official
from yiwang.identity.models import Role

PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def pdf_upload(name: str = "申请书.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def item(department_x) -> ServiceItem:
    return make_item(
        code="610100-SCJG-XK-0001",
        name="食品经营许可",
        department=department_x,
        online_depth=ServiceItem.OnlineDepth.FULLY_ONLINE,
        promised_limit_days=10,
        statutory_limit_days=20,
        materials=[
            {"name": "食品经营许可申请书", "source": Material.Source.APPLICANT},
            {"name": "营业执照", "source": Material.Source.GOVERNMENT, "licence_replaceable": True},
            {"name": "场所平面图", "source": Material.Source.APPLICANT, "required": False},
        ],
    )


@pytest.fixture
def applicant_material(item) -> Material:
    return item.materials.get(name="食品经营许可申请书")


@pytest.fixture
def clerk_x(department_x):
    return make_official("clerk_x", department_x, [Role.CLERK])


@pytest.fixture
def reviewer_x(department_x):
    return make_official("reviewer_x", department_x, [Role.REVIEWER])


@pytest.fixture
def approver_x(department_x):
    return make_official("approver_x", department_x, [Role.APPROVER])


@pytest.fixture
def leader_x(department_x):
    return make_official("leader_x", department_x, [Role.LEADER])


@pytest.fixture
def crew(clerk_x, reviewer_x, approver_x) -> dict:
    """One official of X per duty: walks through a whole case use them, since one official may
    not accept, review and approve the same case (四眼原则, see duties.py)."""
    return {"clerk": clerk_x, "reviewer": reviewer_x, "approver": approver_x}


def walk(case: Case, crew: dict, *decisions: str, comment: str = "") -> Case:
    """Take ``decisions`` in order, each by the crew member whose duty the open task is."""
    for decision in decisions:
        task = open_task(case)
        reason = comment or ("理由" if decision in {"reject", "not_approve", "supplement"} else "")
        case = services.task_complete(actor=crew[task.role], task=task, decision=decision, comment=reason)
    return case


VALID_DATA = {"phone": "13912345678", "address": "西安市新城区解放路1号", "purpose": "开办餐馆"}


def complete_draft(case: Case, material, actor) -> Case:
    services.case_save(actor=actor, case=case, data=VALID_DATA)
    services.attachment_add(actor=actor, case=case, material_id=material.pk, upload=pdf_upload())
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def submitted(item, applicant_material, citizen) -> Case:
    """A case of ``citizen`` for ``item``, submitted, waiting for acceptance."""
    case = services.case_start(actor=citizen, item=item)
    complete_draft(case, applicant_material, citizen)
    return services.case_submit(actor=citizen, case=case)


def open_task(case: Case, role: str | None = None) -> Task:
    qs = Task.objects.filter(case=case, state=Task.State.OPEN)
    if role:
        qs = qs.filter(role=role)
    return qs.get()


def act(case: Case, actor, decision: str, comment: str = "", role: str | None = None) -> Case:
    return services.task_complete(actor=actor, task=open_task(case, role), decision=decision, comment=comment)


def png_bytes() -> bytes:
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = zlib.compress(b"\x00\xff\xff\xff")
    return (
        PNG_HEAD
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", raw)
        + chunk(b"IEND", b"")
    )


__all__ = ["io", "pdf_upload", "complete_draft", "open_task", "act", "walk", "png_bytes", "VALID_DATA"]


def store_process(item: ServiceItem, bpmn: str, dmn: str = "", actor=None):
    """Store a process version as it stood before the upload checks, bypassing them: a model
    that only fails on data, kept from an earlier release, or written into the database by
    other means. The run-time guards (budgets, fail-closed) must hold on their own."""
    from yiwang.applications import engine
    from yiwang.applications.models import Process

    spec = engine.parse_process(bpmn, [dmn] if dmn.strip() else [])
    last = Process.objects.filter(item=item).order_by("-version").values_list("version", flat=True).first()
    Process.objects.filter(item=item, is_active=True).update(is_active=False)
    return Process.objects.create(
        item=item, version=(last or 0) + 1, name="stored", bpmn=bpmn, dmn=dmn, key=spec.key, created_by=actor
    )
