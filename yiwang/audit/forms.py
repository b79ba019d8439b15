from django import forms
from django.utils.translation import gettext_lazy as _


class EntryLookupForm(forms.Form):
    leaf_index = forms.IntegerField(
        label=_("Entry number"),
        help_text=_("Each entry has a number, counting from 0 in the order it was written."),
        min_value=0,
        max_value=2**62,
        error_messages={
            "required": _("Enter the number of the entry to look up."),
            "invalid": _("Enter the entry number as a whole number, for example 42."),
        },
    )


class RecordFilterForm(forms.Form):
    """What an auditor searches the restricted records by (any combination; at least one)."""

    event = forms.RegexField(
        label=_("Event"),
        regex=r"^[a-z_]+:[a-z_]+:[a-z_]+$",
        max_length=100,
        required=False,
        help_text=_("For example applications:case:approve."),
        error_messages={
            "invalid": _("Write the event as app:subject:verb, for example applications:case:approve.")
        },
    )
    target_type = forms.CharField(
        label=_("Object type"), max_length=100, required=False, help_text=_("For example applications.case.")
    )
    target_id = forms.CharField(label=_("Object id"), max_length=100, required=False)
    actor_user_id = forms.RegexField(
        label=_("Acting account id"),
        regex=r"^[0-9]{1,18}$",
        required=False,
        error_messages={"invalid": _("Enter the account id as a whole number.")},
    )
    subject_id = forms.RegexField(
        label=_("Account the record is about"),
        regex=r"^[0-9]{1,18}$",
        required=False,
        error_messages={"invalid": _("Enter the account id as a whole number.")},
    )

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in self.fields):
            raise forms.ValidationError(_("Fill in at least one field to search by."))
        return data
