"""Forms of the catalog pages (search, guidance, import)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yiwang.catalog import search, selectors
from yiwang.catalog.models import ServiceItem


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("What do you need to do?"),
        required=False,
        max_length=search.MAX_QUERY_LENGTH,
        help_text=_("Plain words are fine, e.g. 开餐馆 or 社保转移."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    department = forms.ChoiceField(label=_("Department"), required=False)
    theme = forms.ChoiceField(label=_("Theme"), required=False)
    item_type = forms.ChoiceField(
        label=_("Item type"), required=False, choices=[("", _("All types")), *ServiceItem.ItemType.choices]
    )
    audience = forms.ChoiceField(
        label=_("For"),
        required=False,
        choices=[("", _("Everyone")), ("personal", _("Individuals")), ("enterprise", _("Enterprises"))],
    )
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput)
    basic = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, region_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        # The departments serving the visitor's region (its own and its ancestors'), by region;
        # a department chosen elsewhere (its page links here) stays choosable.
        chosen = str(self.data.get("department", "")) if self.is_bound else ""
        self.fields["department"].choices = [
            ("", _("All departments")),
            *selectors.department_choices(region_id, also=chosen[:64]),
        ]
        self.fields["theme"].choices = [
            ("", _("All themes")),
            *[(t.code, t.name) for t in selectors.themes()],
        ]
        # The widget's maxlength would silently cut what was typed; the server check gives the message.
        self.fields["q"].widget.attrs.pop("maxlength", None)

    def clean(self):
        data = super().clean()
        code = data.get("basic")
        if code and selectors.basic_item_by_code(code) is None:
            # a hidden field: said above the form, not beside a field the visitor cannot see
            self.add_error(None, _("There is no such service in the catalog."))
        return data


class GuideForm(forms.Form):
    q = forms.CharField(
        label=_("Tell us what you want to do"),
        max_length=search.MAX_QUERY_LENGTH,
        help_text=_("For example: 我要开一家饭店, 孩子出生了要办什么, 退休手续."),
        widget=forms.TextInput(attrs={"type": "search"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.pop("maxlength", None)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Catalog file"),
        help_text=_(
            "A JSON or CSV export (UTF-8, at most 32 MB). Nothing is saved unless every row is valid."
        ),
    )
