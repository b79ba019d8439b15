"""Forms of the supervision workbench: they parse; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.supervision.models import Inspection, Law, SupervisionItem


class ItemForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=SupervisionItem.Kind.choices)
    basis = forms.CharField(
        label=_("Legal basis"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One clause per line as law-code:article, e.g. food-safety-law:87."),
    )
    service_items = forms.CharField(
        label=_("Service items followed (codes)"),
        required=False,
        help_text=_(
            "Catalog codes separated by spaces; holders of their licences are in the post-approval scope."
        ),
    )
    publish_workdays = forms.IntegerField(label=_("Publish results within (working days)"), initial=20)


class LawForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)
    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=Law.Kind.choices)
    issuer = forms.CharField(label=_("Issued by"), max_length=100, required=False)
    effective_from = forms.DateField(label=_("In force from"), widget=forms.DateInput(attrs={"type": "date"}))
    clauses = forms.CharField(
        label=_("Clauses"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One clause per line: number | text, e.g. 87 | 县级以上……"),
    )

    def clean_clauses(self):
        rows = []
        for n, line in enumerate(self.cleaned_data["clauses"].splitlines(), start=1):
            if not line.strip():
                continue
            number, sep, text = line.partition("|")
            if not sep:
                raise forms.ValidationError(
                    _("Line %(n)d: write the number, a | and the text."), params={"n": n}, code="clause_line"
                )
            rows.append((number.strip(), text.strip()))
        if not rows:
            raise forms.ValidationError(_("Give at least one clause."), code="no_clause")
        return rows


class AmendForm(forms.Form):
    clause = forms.IntegerField(widget=forms.HiddenInput)
    text = forms.CharField(label=_("Amended text"), widget=forms.Textarea(attrs={"rows": 3}))
    effective_from = forms.DateField(label=_("In force from"), widget=forms.DateInput(attrs={"type": "date"}))


class RepealForm(forms.Form):
    clause = forms.IntegerField(widget=forms.HiddenInput)
    effective_until = forms.DateField(
        label=_("Last day in force"), widget=forms.DateInput(attrs={"type": "date"})
    )


RATIO_HELP = _("Basis points: 100 = 1%, 10000 = everyone of the tier.")


class PlanForm(forms.Form):
    item = forms.ModelChoiceField(label=_("Supervision item"), queryset=SupervisionItem.objects.none())
    title = forms.CharField(label=_("Title"), max_length=200)
    scope_region = forms.CharField(
        label=_("Region (division code prefix)"),
        max_length=6,
        required=False,
        help_text=_("e.g. 6101 or 610102"),
    )
    scope_industry = forms.CharField(
        label=_("Industry (GB/T 4754 section letter)"), max_length=1, required=False
    )
    post_approval_only = forms.BooleanField(
        label=_("Only holders of licences of the item's service items (post-approval)"), required=False
    )
    ratio_A = forms.IntegerField(label=_("Ratio for tier A"), initial=100, help_text=RATIO_HELP)  # noqa: N815 — named for the tier (A–D)
    ratio_B = forms.IntegerField(label=_("Ratio for tier B"), initial=300, help_text=RATIO_HELP)  # noqa: N815 — named for the tier (A–D)
    ratio_C = forms.IntegerField(label=_("Ratio for tier C"), initial=1000, help_text=RATIO_HELP)  # noqa: N815 — named for the tier (A–D)
    ratio_D = forms.IntegerField(label=_("Ratio for tier D"), initial=3000, help_text=RATIO_HELP)  # noqa: N815 — named for the tier (A–D)
    inspectors_per_entity = forms.IntegerField(label=_("Inspectors per entity"), initial=2, min_value=2)

    def __init__(self, *args, items=None, **kwargs):
        super().__init__(*args, **kwargs)
        if items is not None:
            self.fields["item"].queryset = items


class InspectionForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=Inspection.Result.choices)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    inspected_on = forms.DateField(label=_("Inspected on"), widget=forms.DateInput(attrs={"type": "date"}))
