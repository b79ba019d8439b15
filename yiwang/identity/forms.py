"""Forms of the identity pages. They parse input; the services decide and validate the rest."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from yiwang.identity.models import EnterpriseAgent, Role
from yiwang.identity.services import PHONE_RE, PasswordConfirmationError, password_confirm
from yiwang.lib.idnumbers import validate_id_number
from yiwang.lib.uscc import validate_credit_code


class ServiceErrorsMixin:
    """Put a service's ``ValidationError`` (field → messages) onto the form's fields."""

    field_aliases: dict[str, str] = {}

    def add_service_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for field, errors in exc.error_dict.items():
            name = self.field_aliases.get(field, field)
            self.add_error(name if name in self.fields else None, errors)


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("User name"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class TotpCodeForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(
        label=_("6-digit code"),
        max_length=12,
        help_text=_("The code your authenticator app shows now."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordConfirmForm(ServiceErrorsMixin, forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        max_length=256,
        strip=False,
        help_text=_("Enter your password again to confirm it is you."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordChangeForm(ServiceErrorsMixin, forms.Form):
    field_aliases = {"new_password": "new_password1"}

    old_password = forms.CharField(
        label=_("Current password"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=_("New password"),
        max_length=256,
        strip=False,
        help_text=_("At least 10 characters; not only digits; not like your user name."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password2 = forms.CharField(
        label=_("New password again"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("new_password1")
            and data.get("new_password2")
            and data["new_password1"] != data["new_password2"]
        ):
            self.add_error("new_password2", _("The two passwords are not the same."))
        return data


class RegisterForm(ServiceErrorsMixin, forms.Form):
    field_aliases = {"password": "password1"}

    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("As written on your identity card."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    id_number = forms.CharField(
        label=_("Identity number"),
        max_length=24,
        help_text=_("18 characters; the last one may be X."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        help_text=_("11 digits, e.g. 13812345678."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    email = forms.EmailField(
        label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    username = forms.CharField(
        label=_("User name"),
        max_length=64,
        help_text=_("3 to 64 letters, digits, dots, hyphens or underscores."),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        max_length=256,
        strip=False,
        help_text=_("At least 10 characters; not only digits; not like your user name."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        max_length=256,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_id_number(self):
        return validate_id_number(self.cleaned_data["id_number"])

    def clean_phone(self):
        phone = re.sub(r"[\s-]", "", self.cleaned_data["phone"])
        if not PHONE_RE.match(phone):
            raise ValidationError(_("Enter an 11-digit mainland mobile number, e.g. 13812345678."))
        return phone

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("The two passwords are not the same."))
        return data


class RealNameForm(ServiceErrorsMixin, forms.Form):
    """The name and identity number to check with the population register (L2)."""

    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_("As written on your identity card."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    id_number = forms.CharField(
        label=_("Identity number"),
        max_length=24,
        help_text=_("18 characters; the last one may be X."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_id_number(self):
        return validate_id_number(self.cleaned_data["id_number"])


class InPersonCheckForm(RealNameForm):
    """An official's check of an identity card at a service hall (L3)."""

    username = forms.CharField(
        label=_("The person's user name"),
        max_length=64,
        help_text=_("Ask the person which account to check."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none"}),
    )
    field_order = ["username", "name", "id_number"]


class EnterpriseClaimForm(ServiceErrorsMixin, forms.Form):
    credit_code = forms.CharField(
        label=_("Unified social credit code"),
        max_length=24,
        help_text=_("18 characters, on the business licence."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_credit_code(self):
        return validate_credit_code(self.cleaned_data["credit_code"])


class DelegationForm(RealNameForm):
    """Whom the legal representative delegates, to do what, until when (授权委托)."""

    scope = forms.ChoiceField(
        label=_("What the agent may do"),
        choices=EnterpriseAgent.Scope.choices,
        initial=EnterpriseAgent.Scope.APPLY,
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        help_text=_("At most three years from today; pick the day in the calendar."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].label = _("The agent's name")
        self.fields["name"].help_text = _("As written on their identity card.")
        self.fields["id_number"].label = _("The agent's identity number")


class RoleChangeForm(ServiceErrorsMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    password = forms.CharField(
        label=_("Your password"),
        max_length=256,
        strip=False,
        help_text=_("Changing roles needs your password again."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def password_confirmed(form: forms.Form, user, field: str = "password") -> bool:
    """Re-authentication on a page: True when ``form``'s ``field`` holds ``user``'s password
    (``identity.services.password_confirm``: throttled, shared with the API); otherwise the
    error is on that field and False."""
    try:
        password_confirm(user=user, password=form.cleaned_data.get(field))
    except PasswordConfirmationError as exc:
        form.add_error(field, exc.messages[0])
        return False
    return True
