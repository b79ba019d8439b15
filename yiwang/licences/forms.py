"""Forms of the licences pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.licences.services import MAX_CLAIM_LENGTH, MAX_REASON
from yiwang.licences.verify import MAX_INPUT


class VerifyForm(forms.Form):
    credential = forms.CharField(
        label=_("Licence or presentation"),
        help_text=_(
            "Paste the text of the holder's QR code (a link) or of a licence file (it starts with ey…)."
        ),
        max_length=MAX_INPUT,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "autocomplete": "off"}),
    )


class ActionForm(forms.Form):
    ACTIONS = (
        ("suspend", _("Suspend")),
        ("reinstate", _("Reinstate")),
        ("revoke", _("Revoke")),
        ("renew", _("Renew")),
    )
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    reason = forms.CharField(label=_("Reason"), max_length=MAX_REASON, required=False)
    password = forms.CharField(
        label=_("Your password"),
        help_text=_("Revoking needs your password again."),
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class RotateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=MAX_REASON, required=False)
    password = forms.CharField(
        label=_("Your password"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class TrustedIssuerForm(forms.Form):
    issuer = forms.URLField(label=_("Issuer URL (iss)"), max_length=300, assume_scheme="https")
    name = forms.CharField(label=_("Name"), max_length=200)


def issue_form(licence_type):
    """The manual issue form of one licence type: the holder, the reason, and the claims the
    register does not fill in (those filled from the holder's record are not typed by hand)."""
    fields = {
        "holder": forms.CharField(
            label=_("Holder's identity number or unified social credit code"), max_length=18, min_length=18
        ),
        "reason": forms.CharField(label=_("Reason for issuing by hand"), max_length=MAX_REASON),
    }
    for spec in licence_type.claims:
        source = spec.get("from", "")
        if source and not source.startswith("case."):
            continue
        fields[f"claim_{spec['name']}"] = forms.CharField(
            label=f"{spec['zh']} | {spec['en']}",
            max_length=MAX_CLAIM_LENGTH,
            required=bool(spec.get("required")),
        )
    return type("IssueForm", (forms.Form,), fields)
