"""Forms of the gateway pages (API keys)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class KeyCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        help_text=_("Which system will use the key, e.g. 企业登记系统."),
        max_length=128,
    )
    department = forms.TypedChoiceField(label=_("Department"), coerce=int, choices=())
    expires_on = forms.DateField(
        label=_("Valid until"),
        help_text=_("Optional: at most three years from today, which is also the default."),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    password = forms.CharField(
        label=_("Your password"),
        help_text=_("Creating a key needs your password again."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [(d.pk, d.name) for d in departments]


class KeyRevokeForm(forms.Form):
    credential = forms.IntegerField(min_value=1, max_value=2**62, widget=forms.HiddenInput)
