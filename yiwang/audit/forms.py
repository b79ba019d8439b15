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
