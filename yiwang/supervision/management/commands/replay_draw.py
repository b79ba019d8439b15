"""`yiwang replay-draw ID` (or `--file BUNDLE.json`): recompute a 双随机 draw from its published
inputs and say whether the result is identical (exit 0) or not (exit 2)."""

import base64
import json

from django.core.management.base import BaseCommand, CommandError

from yiwang.supervision import draw, services
from yiwang.supervision.models import DrawPlan


class Command(BaseCommand):
    help = (
        "Recompute a draw from its published inputs, seed and tree head (docs/supervision.md) and say "
        "whether it gives the same entities and inspectors."
    )

    def add_arguments(self, parser):
        parser.add_argument("draw_id", nargs="?", type=int, help="the plan's id on this platform")
        parser.add_argument(
            "--file", help="a bundle saved from GET /api/supervision/draws/{id}/replay (no database needed)"
        )

    def handle(self, *args, draw_id=None, file=None, **options):
        if file:
            try:
                with open(file, encoding="utf-8") as fh:
                    bundle = json.load(fh)
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {file}: {exc}") from exc
        elif draw_id is not None:
            plan = DrawPlan.objects.filter(pk=draw_id).first()
            if plan is None or plan.state not in (DrawPlan.State.DRAWN, DrawPlan.State.PUBLISHED):
                raise CommandError(f"draw {draw_id}: no drawn plan has this id")
            bundle = services.replay_bundle(plan)
            self._check_signature(bundle)
        else:
            raise CommandError("give a draw id or --file BUNDLE.json")
        try:
            identical, why = draw.replay_bundle(bundle)
        except (KeyError, TypeError, ValueError) as exc:
            raise CommandError(f"the bundle is not a published draw: {exc}") from exc
        if not identical:
            raise CommandError(f"draw {bundle.get('plan')}: NOT identical: {why}", returncode=2)
        self.stdout.write(f"draw {bundle.get('plan')}: identical — {why}")

    def _check_signature(self, bundle) -> None:
        from yiwang.audit import signing

        head = bundle["tree_head"]
        message = signing.tree_head_bytes(
            timestamp=head["timestamp"],
            tree_size=head["tree_size"],
            root_hash=base64.b64decode(head["root_hash"]),
        )
        key = signing.load_key()
        if head["key_id"] == key.key_id and not key.verify(base64.b64decode(head["signature"]), message):
            raise CommandError(
                f"draw {bundle['plan']}: the tree head's signature does not verify", returncode=2
            )
        self.stdout.write(f"tree head of size {head['tree_size']} signed by key {head['key_id']}: checked")
