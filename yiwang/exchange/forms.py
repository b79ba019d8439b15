"""Forms of the exchange's pages. They parse what a person typed; the rules are the services'
(``rules``), and the services' refusals are put back on the fields they name (``add_errors``)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from yiwang.exchange import rules, services
from yiwang.exchange.errors import ExchangeError
from yiwang.exchange.models import OpenClass, ResourceKind, ShareClass, SourceKind, UpdateFrequency

FIELDS_HELP = _l(
    "One field per line: name | Chinese label | English label | type | grade 1-4 | personal kind. "
    "Types: string, integer, decimal, date, datetime, boolean. Personal kinds: id_number, phone, name, "
    "address, other, or leave empty. "
    "Example: id_number | 公民身份号码 | Identity number | string | 3 | id_number"
)


def fields_to_text(specs) -> str:
    return "\n".join(
        " | ".join([s["name"], s["label_zh"], s["label_en"], s["type"], str(s["grade"]), s["personal"]])
        for s in specs
    )


def parse_fields(text: str) -> tuple[list[dict], list[str]]:
    """Field specs from the text box, and what is wrong with its lines (by line number)."""
    specs, problems = [], []
    for n, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) < 5 or len(parts) > 6:
            problems.append(
                _("Line %(n)d: give name | Chinese label | English label | type | grade | personal kind.")
                % {"n": n}
            )
            continue
        parts += [""] * (6 - len(parts))
        grade = parts[4]
        specs.append(
            {
                "name": parts[0],
                "label_zh": parts[1],
                "label_en": parts[2],
                "type": parts[3],
                "grade": int(grade) if grade.isdigit() else grade,
                "personal": parts[5],
            }
        )
    return specs, problems


def add_errors(form: forms.Form, exc: ExchangeError, *, fields_field: str | None = None) -> None:
    """Put a service's refusal on the form: each named field on its input (the field list's
    ``fields.<n>.<key>`` on the list's text box), the rest and the message on the form."""
    placed = False
    for key, message in exc.errors.items():
        if key in form.fields:
            form.add_error(key, message)
            placed = True
        elif fields_field and key.startswith("fields"):
            form.add_error(fields_field, message)
            placed = True
        else:
            form.add_error(None, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _choices(choices):
    return [(v, label) for v, label in choices]


class ResourceForm(forms.Form):
    code = forms.CharField(
        label=_l("Resource code"), max_length=6, help_text=_l("e.g. A01001, B02003, C05001")
    )
    name = forms.CharField(label=_l("Name"), max_length=200)
    description = forms.CharField(
        label=_l("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    kind = forms.ChoiceField(label=_l("Resource kind"), choices=_choices(ResourceKind.choices))
    share_class = forms.ChoiceField(label=_l("Share class"), choices=_choices(ShareClass.choices))
    share_conditions = forms.CharField(
        label=_l("Conditions of sharing"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    no_share_basis = forms.CharField(
        label=_l("Basis for not sharing"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    open_class = forms.ChoiceField(
        label=_l("Open class"), choices=_choices(OpenClass.choices), initial="none"
    )
    open_conditions = forms.CharField(
        label=_l("Conditions of opening"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    on_negative_list = forms.BooleanField(label=_l("On the negative list"), required=False)
    negative_list_basis = forms.CharField(
        label=_l("Basis of the negative listing"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    update_frequency = forms.ChoiceField(
        label=_l("Update frequency"), choices=_choices(UpdateFrequency.choices)
    )
    source_kind = forms.ChoiceField(
        label=_l("Where the data comes from"), choices=_choices(SourceKind.choices)
    )
    upstream_url = forms.CharField(label=_l("Upstream endpoint"), max_length=500, required=False)
    upstream_timeout_ms = forms.IntegerField(label=_l("Upstream timeout (ms)"), initial=3000, required=False)
    key_field = forms.CharField(
        label=_l("Key field"), max_length=64, required=False, help_text=_l("The field rows are looked up by.")
    )
    themes = forms.CharField(label=_l("Themes"), required=False, help_text=_l("Separated by commas."))
    tags = forms.CharField(label=_l("Tags"), required=False, help_text=_l("Separated by commas."))
    fields_text = forms.CharField(
        label=_l("Fields"),
        help_text=FIELDS_HELP,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True

    def clean_fields_text(self):
        specs, problems = parse_fields(self.cleaned_data["fields_text"])
        if problems:
            raise forms.ValidationError(problems)
        self.cleaned_data["field_specs"] = specs
        return self.cleaned_data["fields_text"]

    def resource_data(self) -> dict:
        data = {k: self.cleaned_data.get(k) for k in rules.RESOURCE_KEYS if k in self.cleaned_data}
        for key in ("themes", "tags"):
            data[key] = [
                w.strip()
                for w in (self.cleaned_data.get(key) or "").replace("，", ",").split(",")
                if w.strip()
            ]
        return data

    @staticmethod
    def initial_for(resource) -> dict:
        initial = {k: getattr(resource, k) for k in rules.RESOURCE_KEYS}
        initial["themes"] = ", ".join(resource.themes or [])
        initial["tags"] = ", ".join(resource.tags or [])
        initial["fields_text"] = fields_to_text(services.resource_fields_as_specs(resource))
        return initial


class ResourceActionForm(forms.Form):
    ACTIONS = (("publish", _l("Publish")), ("retire", _l("Retire")))
    action = forms.ChoiceField(label=_l("Action"), choices=ACTIONS)
    reason = forms.CharField(label=_l("Reason"), max_length=services.MAX_REASON, required=False)


class RowsForm(forms.Form):
    file = forms.FileField(
        label=_l("Table file"),
        help_text=_l(
            "CSV (UTF-8, with or without BOM, or GB18030) or XLSX; the first line names the columns by field "
            "name or label. Every row is replaced, or nothing if one cell is wrong."
        ),
    )


class RequestForm(forms.Form):
    fields = forms.MultipleChoiceField(label=_l("Fields"), widget=forms.CheckboxSelectMultiple)
    purpose = forms.CharField(
        label=_l("Purpose"), max_length=services.MAX_PURPOSE, widget=forms.Textarea(attrs={"rows": 3})
    )
    legal_basis = forms.CharField(
        label=_l("Legal basis"),
        max_length=services.MAX_REASON,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    valid_until = forms.DateField(
        label=_l("Needed until"),
        help_text=_l("A date like 2027-05-31."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, resource, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = [(f.name, f"{f.label_zh} ({f.name})") for f in resource.fields.all()]
        if not self.is_bound:
            self.initial.setdefault("valid_until", timezone.localdate() + dt.timedelta(days=365))


class DecideForm(forms.Form):
    DECISIONS = (("approve", _l("Approve")), ("refuse", _l("Refuse")))
    decision = forms.ChoiceField(label=_l("Decision"), choices=DECISIONS, widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_l("Reason"),
        max_length=services.MAX_REASON,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    unmasked_fields = forms.MultipleChoiceField(
        label=_l("Personal fields handed over unmasked"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_l("Leave all unticked unless the purpose needs the values in clear."),
    )
    password = forms.CharField(
        label=_l("Your password"),
        help_text=_l("Approving grants access to data: enter your password again."),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, request_obj, **kwargs):
        super().__init__(*args, **kwargs)
        personal = set(request_obj.resource.fields.exclude(personal="").values_list("name", flat=True))
        self.fields["unmasked_fields"].choices = [(f, f) for f in request_obj.fields if f in personal]


class WithdrawForm(forms.Form):
    withdraw = forms.CharField(widget=forms.HiddenInput, initial="1")


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_l("Reason"), max_length=services.MAX_REASON)
    password = forms.CharField(
        label=_l("Your password"),
        help_text=_l("Revoking needs your password again."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SystemForm(forms.Form):
    code = forms.CharField(label=_l("Code"), max_length=64)
    name = forms.CharField(label=_l("Name"), max_length=128)
    description = forms.CharField(
        label=_l("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    network = forms.CharField(
        label=_l("Network"), max_length=64, required=False, help_text=_l("e.g. 政务外网")
    )
    contact = forms.CharField(label=_l("Contact"), max_length=128, required=False)


class DemandForm(forms.Form):
    title = forms.CharField(label=_l("Title"), max_length=200)
    description = forms.CharField(label=_l("What data is needed"), widget=forms.Textarea(attrs={"rows": 3}))
    purpose = forms.CharField(label=_l("Purpose"), widget=forms.Textarea(attrs={"rows": 2}))
    wanted_fields = forms.CharField(label=_l("Fields wanted"), required=False)


class DemandActionForm(forms.Form):
    ACTIONS = (("match", _l("Match a resource")), ("close", _l("Close the demand")))
    action = forms.ChoiceField(label=_l("Action"), choices=ACTIONS)
    resource = forms.CharField(label=_l("Resource code"), max_length=6, required=False)
