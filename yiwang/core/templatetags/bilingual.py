"""``{% load bilingual %}{{ task.title|inlang }}``: a ``中文 | English`` label (yiwang.lib.bilingual)
in the reader's language."""

from django import template

from yiwang.lib.bilingual import pick

register = template.Library()


@register.filter
def inlang(text):
    return pick(text)
