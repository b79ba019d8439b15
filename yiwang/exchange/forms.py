"""Forms of the exchange's pages. They parse what a person typed; the rules are the services'
(``rules``), and the services' refusals are put back on the fields they name (``add_errors``)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from yiwang.exchange import rules, services
from yiwang.exchange.errors import ExchangeError
from yiwang.exchange.models import OpenClass, ResourceKind, ShareClass, SourceKind, UpdateFrequency

FIELDS_HELP = _(
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
                gettext(
                    "Line %(n)d: give name | Chinese label | English label | type | grade | personal kind."
                )  # noqa: E501
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
    code = forms.CharField(label=_("Resource code"), max_length=6, help_text=_("e.g. A01001, B02003, C05001"))
    name = forms.CharField(label=pgettext_lazy("exchange", "Name"), max_length=200)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    kind = forms.ChoiceField(label=_("Resource kind"), choices=_choices(ResourceKind.choices))
    share_class = forms.ChoiceField(label=_("Share class"), choices=_choices(ShareClass.choices))
    share_conditions = forms.CharField(
        label=_("Conditions of sharing"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    no_share_basis = forms.CharField(
        label=_("Basis for not sharing"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    open_class = forms.ChoiceField(label=_("Open class"), choices=_choices(OpenClass.choices), initial="none")
    open_conditions = forms.CharField(
        label=_("Conditions of opening"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    on_negative_list = forms.BooleanField(label=_("On the negative list"), required=False)
    negative_list_basis = forms.CharField(
        label=_("Basis of the negative listing"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    update_frequency = forms.ChoiceField(
        label=_("Update frequency"), choices=_choices(UpdateFrequency.choices)
    )
    source_kind = forms.ChoiceField(
        label=_("Where the data comes from"), choices=_choices(SourceKind.choices)
    )
    upstream_url = forms.CharField(label=_("Upstream endpoint"), max_length=500, required=False)
    upstream_timeout_ms = forms.IntegerField(label=_("Upstream timeout (ms)"), initial=3000, required=False)
    key_field = forms.CharField(
        label=_("Key field"), max_length=64, required=False, help_text=_("The field rows are looked up by.")
    )
    themes = forms.CharField(label=_("Themes"), required=False, help_text=_("Separated by commas."))
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separated by commas."))
    fields_text = forms.CharField(
        label=_("Fields"),
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
    ACTIONS = (("publish", _("Publish")), ("retire", _("Retire")))
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    reason = forms.CharField(
        label=pgettext_lazy("exchange", "Reason"), max_length=services.MAX_REASON, required=False
    )


class RowsForm(forms.Form):
    file = forms.FileField(
        label=_("Table file"),
        help_text=_(
            "CSV (UTF-8, with or without BOM, or GB18030) or XLSX; the first line names the columns by field "
            "name or label. Every row is replaced, or nothing if one cell is wrong."
        ),
    )


class RequestForm(forms.Form):
    fields = forms.MultipleChoiceField(label=_("Fields"), widget=forms.CheckboxSelectMultiple)
    purpose = forms.CharField(
        label=_("Purpose"), max_length=services.MAX_PURPOSE, widget=forms.Textarea(attrs={"rows": 3})
    )
    legal_basis = forms.CharField(
        label=_("Legal basis"),
        max_length=services.MAX_REASON,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    valid_until = forms.DateField(
        label=_("Needed until"),
        help_text=_("A date like 2027-05-31."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, resource, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fields"].choices = [(f.name, f"{f.label_zh} ({f.name})") for f in resource.fields.all()]
        if not self.is_bound:
            self.initial.setdefault("valid_until", timezone.localdate() + dt.timedelta(days=365))


class GrantForm(forms.Form):
    consumer = forms.CharField(
        label=_("Consuming department (code)"), max_length=32, help_text=_("e.g. 610100-SCJG")
    )
    fields = forms.MultipleChoiceField(label=_("Fields"), widget=forms.CheckboxSelectMultiple)
    unmasked_fields = forms.MultipleChoiceField(
        label=_("Personal fields handed over unmasked"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked unless the purpose needs the values in clear."),
    )
    purpose = forms.CharField(
        label=_("Purpose"), max_length=services.MAX_PURPOSE, widget=forms.Textarea(attrs={"rows": 3})
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        help_text=_("A date like 2027-05-31."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    standing = forms.BooleanField(
        label=_("Standing grant for the platform's forms and rules"), required=False
    )
    password = forms.CharField(
        label=_("Your password"),
        help_text=_("Granting access to data needs your password again."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, resource, **kwargs):
        super().__init__(*args, **kwargs)
        fields = list(resource.fields.all())
        self.fields["fields"].choices = [(f.name, f"{f.label_zh} ({f.name})") for f in fields]
        self.fields["unmasked_fields"].choices = [
            (f.name, f"{f.label_zh} ({f.name})") for f in fields if f.personal
        ]


class DecideForm(forms.Form):
    DECISIONS = (("approve", _("Approve")), ("refuse", _("Refuse")))
    decision = forms.ChoiceField(
        label=pgettext_lazy("exchange", "Decision"), choices=DECISIONS, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=pgettext_lazy("exchange", "Reason"),
        max_length=services.MAX_REASON,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    unmasked_fields = forms.MultipleChoiceField(
        label=_("Personal fields handed over unmasked"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave all unticked unless the purpose needs the values in clear."),
    )
    password = forms.CharField(
        label=_("Your password"),
        help_text=_("Approving grants access to data: enter your password again."),
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
    reason = forms.CharField(label=pgettext_lazy("exchange", "Reason"), max_length=services.MAX_REASON)
    password = forms.CharField(
        label=_("Your password"),
        help_text=pgettext_lazy("exchange", "Revoking needs your password again."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SystemForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=64)
    name = forms.CharField(label=pgettext_lazy("exchange", "Name"), max_length=128)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    network = forms.CharField(label=_("Network"), max_length=64, required=False, help_text=_("e.g. 政务外网"))
    contact = forms.CharField(label=_("Contact"), max_length=128, required=False)


class SystemEditForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("exchange", "Name"), max_length=128)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    network = forms.CharField(label=_("Network"), max_length=64, required=False)
    contact = forms.CharField(label=_("Contact"), max_length=128, required=False)
    is_active = forms.BooleanField(label=_("In service"), required=False)


class DemandForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("What data is needed"), widget=forms.Textarea(attrs={"rows": 3}))
    purpose = forms.CharField(label=_("Purpose"), widget=forms.Textarea(attrs={"rows": 2}))
    wanted_fields = forms.CharField(label=_("Fields wanted"), required=False)


class DemandActionForm(forms.Form):
    ACTIONS = (("match", _("Match a resource")), ("close", _("Close the demand")))
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    resource = forms.CharField(label=_("Resource code"), max_length=6, required=False)
