"""Page forms for applications (the application form itself is JSON Schema: schemaforms.py)."""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DECISION_LABELS, Rating

BPMN_MAX_BYTES = 1024 * 1024


class UploadForm(forms.Form):
    material = forms.TypedChoiceField(label=_("Material"), coerce=int, choices=())
    file = forms.FileField(label=_("File"), help_text=_("PDF, OFD, PNG, JPEG or WebP, at most 10 MB."))

    def __init__(self, *args, materials=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["material"].choices = [(m.pk, m.name) for m in materials]


class ActionForm(forms.Form):
    decision = forms.ChoiceField(label=_("Decision"), choices=(), widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you reject, refuse or ask for a supplement: the applicant reads it."),
    )

    def __init__(self, *args, decisions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [(d, DECISION_LABELS.get(d, d)) for d in decisions]


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("How satisfied are you?"),
        coerce=int,
        choices=sorted(Rating.Level.choices, reverse=True),
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000)


class SupplementForm(forms.Form):
    comment = forms.CharField(
        label=_("Note to the department"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TrackForm(forms.Form):
    number = forms.CharField(
        label=_("Case number"), max_length=32, help_text=_("For example 610100-20261123-000042.")
    )
    id_last4 = forms.RegexField(
        label=_("Last four characters of the applicant's identity number"),
        regex=r"^[0-9]{3}[0-9Xx]$",
        max_length=4,
        error_messages={"invalid": _("Enter four characters: digits, the last may be X.")},
    )


class ReplyForm(forms.Form):
    reply = forms.CharField(
        label=_("Reply to the applicant"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )


class ProcessForm(forms.Form):
    bpmn = forms.FileField(
        label=_("BPMN 2.0 file"), help_text=_("Drawn in any standard modeler such as bpmn.io.")
    )
    dmn = forms.FileField(label=_("DMN decision table (optional)"), required=False)
    name = forms.CharField(label=_("Name"), max_length=200, required=False)

    def _text(self, name):
        upload = self.cleaned_data.get(name)
        if not upload:
            return ""
        if upload.size > BPMN_MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(_("The file is not UTF-8 text.")) from exc

    def clean_bpmn(self):
        return self._text("bpmn")

    def clean_dmn(self):
        return self._text("dmn")


class SchemaForm(forms.Form):
    schema = forms.CharField(
        label=_("Form (JSON Schema)"),
        widget=forms.Textarea(attrs={"rows": 16, "class": "mono"}),
        max_length=200_000,
    )

    def clean_schema(self):
        try:
            value = json.loads(self.cleaned_data["schema"])
        except ValueError as exc:
            raise forms.ValidationError(_("This is not valid JSON: %(error)s") % {"error": exc}) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("The schema must be a JSON object."))
        return value


class ModelerForm(forms.Form):
    """What the in-browser modeler posts: the diagram's XML (the page's script exports it from
    the canvas before submitting; without the script the XML fields can be edited directly)."""

    name = forms.CharField(label=_("Name of this process version"), max_length=200, required=False)
    bpmn = forms.CharField(
        label=_("BPMN 2.0 XML"),
        widget=forms.Textarea(attrs={"rows": 12, "class": "mono", "spellcheck": "false"}),
        max_length=BPMN_MAX_BYTES,
    )
    dmn = forms.CharField(
        label=_("DMN 1.3 XML (optional)"),
        widget=forms.Textarea(attrs={"rows": 8, "class": "mono", "spellcheck": "false"}),
        max_length=BPMN_MAX_BYTES,
        required=False,
    )
