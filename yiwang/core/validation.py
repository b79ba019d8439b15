"""Model validation that means the same on every database.

SQLite stores any 64-bit integer in an ``IntegerField`` and any length in a ``CharField``;
PostgreSQL refuses what does not fit its column (a 500 if nothing checked first). Django's
field validators check the length everywhere, but take the integer range from the database in
use, so on SQLite a value that PostgreSQL refuses passes. ``PortableModel`` checks integers
against the narrowest column any supported database uses, so what is valid here is valid there.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations
from django.utils.translation import gettext as _

# The column ranges of standard SQL databases (PostgreSQL's), not those of the database in use.
INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges


def integer_range_errors(instance: models.Model, exclude=()) -> dict[str, list[str]]:
    """Messages by field for integer values outside the portable range of their column."""
    errors: dict[str, list[str]] = {}
    for field in instance._meta.concrete_fields:
        if field.name in exclude or not isinstance(field, models.IntegerField):
            continue
        bounds = INTEGER_RANGES.get(field.get_internal_type())
        value = getattr(instance, field.attname)
        if bounds is None or not isinstance(value, int) or bounds[0] <= value <= bounds[1]:
            continue
        errors[field.name] = [
            _("Enter a number from %(low)s to %(high)s.") % {"low": bounds[0], "high": bounds[1]}
        ]
    return errors


class PortableModel(models.Model):
    """A model whose ``clean_fields`` also checks the portable integer ranges."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        exclude = set(exclude or ())
        errors: dict[str, list] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for name, messages in integer_range_errors(self, exclude | set(errors)).items():
            errors[name] = messages
        if errors:
            raise ValidationError(errors)
