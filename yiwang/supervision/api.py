"""The public API of 双随机、一公开 (signed out): published draws with everything needed to replay
them, and an entity's public record. Mounted at /api/supervision/."""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja import Router, Schema

from yiwang.core.api import ApiError
from yiwang.supervision import selectors, services

router = Router(tags=["supervision"])


class DrawOut(Schema):
    id: int
    title: str
    item_code: str
    item_name: str
    department: str
    scope_region: str
    scope_industry: str
    post_approval_only: bool
    ratios: dict[str, int]
    inspectors_per_entity: int
    inputs_digest: str
    commit_leaf_index: int
    seed: str
    seed_leaf_index: int
    result_digest: str
    draw_leaf_index: int
    drawn: int
    drawn_at: str
    published_at: str


class TreeHeadOut(Schema):
    tree_size: int
    root_hash: str
    timestamp: int
    signature: str
    key_id: str


class ReplayOut(Schema):
    plan: int
    inputs: dict
    inputs_digest: str
    commit_leaf_index: int
    tree_head: TreeHeadOut
    seed: str
    seed_leaf_index: int
    draw_leaf_index: int
    result: list
    result_digest: str


class ResultOut(Schema):
    draw: int
    item_name: str
    department: str
    inspected_on: str | None
    result: str
    result_label: str


class EntityOut(Schema):
    credit_code: str
    name: str
    region_code: str
    industry: str
    registration_status: str
    results: list[ResultOut]


def _draw_out(plan, drawn: int | None = None) -> dict:
    return {
        "id": plan.pk,
        "title": plan.title,
        "item_code": plan.item.code,
        "item_name": plan.item.name,
        "department": plan.department.code,
        "scope_region": plan.scope_region,
        "scope_industry": plan.scope_industry,
        "post_approval_only": plan.post_approval_only,
        "ratios": plan.ratios,
        "inspectors_per_entity": plan.inspectors_per_entity,
        "inputs_digest": plan.inputs_digest,
        "commit_leaf_index": plan.commit_leaf_index,
        "seed": plan.seed,
        "seed_leaf_index": plan.seed_leaf_index,
        "result_digest": plan.result_digest,
        "draw_leaf_index": plan.draw_leaf_index,
        "drawn": drawn if drawn is not None else plan.inspections.count(),
        "drawn_at": plan.drawn_at.isoformat(),
        "published_at": plan.published_at.isoformat(),
    }


def _published(draw_id: int):
    plan = selectors.published_plan(draw_id)
    if plan is None:
        raise ApiError(404, _("No published draw has this id."))
    return plan


@router.get("/draws", response=list[DrawOut], summary="Published 双随机 draws, newest first")
def get_draws(request):
    return [_draw_out(p, p.n_drawn) for p in selectors.published_plans()[:200]]


@router.get("/draws/{draw_id}", response=DrawOut, summary="A published draw")
def get_draw(request, draw_id: int):
    return _draw_out(_published(draw_id))


@router.get(
    "/draws/{draw_id}/replay",
    response=ReplayOut,
    summary="Everything needed to replay a published draw (yiwang replay-draw --file)",
)
def get_replay(request, draw_id: int):
    return services.replay_bundle(_published(draw_id))


def _result_out(inspection) -> dict:
    return {
        "draw": inspection.plan_id,
        "item_name": inspection.plan.item.name,
        "department": inspection.plan.department.code,
        "inspected_on": inspection.inspected_on.isoformat() if inspection.inspected_on else None,
        "result": inspection.result,
        "result_label": str(inspection.get_result_display()),
    }


@router.get("/entities/{credit_code}", response=EntityOut, summary="A market entity's public record")
def get_entity(request, credit_code: str):
    entity = selectors.entity_by_code(credit_code)
    if entity is None:
        raise ApiError(404, _("No market entity has this credit code."))
    record = selectors.entity_public_record(entity)
    return {
        "credit_code": entity.credit_code,
        "name": entity.name,
        "region_code": entity.region_code,
        "industry": entity.industry,
        "registration_status": entity.registration_status,
        "results": [_result_out(i) for i in record["results"]],
    }
