"""``{% load case_facts %}{% case_facts case %}``: the government facts a case used (bound form
fields fetched through the data exchange, ``applications.facts``), with their source: the
evidence (证据) the handling official sees, and what the citizen sees the government used."""

from django import template

from yiwang.applications import schemaforms

register = template.Library()


@register.inclusion_tag("applications/_case_facts.html", takes_context=True)
def case_facts(context, case, official=False):
    if case is None or not case.facts:
        return {"rows": []}
    from yiwang.applications.services import form_schema

    properties = schemaforms._properties(form_schema(case.item))
    rows = []
    for record in case.facts:
        prop = properties.get(record.get("field"), {})
        value = case.data.get(record.get("field"))
        rows.append(
            {
                **record,
                "label": schemaforms._title(prop) if prop else record.get("field", ""),
                "value": "" if value is None else value,
                "is_bool": isinstance(value, bool),
            }
        )
    return {"rows": rows, "official": official}
