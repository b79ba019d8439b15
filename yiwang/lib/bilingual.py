"""Labels written once in both languages, ``中文 | English``: BPMN step names, DMN rule texts
and the site name, which departments and operators write themselves (no message catalog
knows them). The reader sees the part of their language; a label without `` | `` is shown as
written to everybody. Chinese comes first, as zh-Hans is the platform's first language."""

from __future__ import annotations

from django.utils.translation import get_language

SEPARATOR = " | "


def pick(text: object, language: str | None = None) -> str:
    """The part of ``text`` for ``language`` (the active one by default): the English part for
    English readers when there is one, else the Chinese part."""
    text = "" if text is None else str(text)
    if SEPARATOR not in text:
        return text
    zh, _sep, en = text.partition(SEPARATOR)
    language = (language or get_language() or "zh-hans").lower()
    if language.startswith("en") and en.strip():
        return en.strip()
    return zh.strip()
