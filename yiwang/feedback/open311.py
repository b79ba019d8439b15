"""Open311 GeoReport v2: existing Open311 clients file and read 12345 requests.

Endpoints (the format is the suffix, ``.json`` or ``.xml``, as the spec has it), under
``/open311/v2/``:

- ``GET discovery``: the endpoint and its formats;
- ``GET services``: one service per category (``service_code`` is the category);
- ``GET services/{service_code}``: its definition: one optional attribute, ``kind``
  (complaint, suggestion or consultation; complaint when not given);
- ``POST requests``: file a request. Needs ``api_key``: an API key of a department's system
  (the exchange's keys, ``yw_…``, created by its data stewards), as the ``api_key`` field or
  the ``X-API-Key`` header. ``jurisdiction_id`` is the region's code (GB/T 2260), by default the
  key's department's region. A location is required: ``lat`` + ``long`` or ``address_string``.
  ``first_name``, ``last_name``, ``phone``, ``email`` are kept for the department and never
  served back;
- ``GET requests`` (``service_request_id`` a comma list, ``service_code``, ``status``
  open/closed, ``start_date``/``end_date`` in W3C format; the last 90 days and at most 1,000 by
  default) and ``GET requests/{service_request_id}``.

What is served of a request is the public view: the description with numbers and e-mail
addresses blotted out, the area instead of the address, the point rounded to about a
kilometre; never the filer. Errors are the spec's list of ``{code, description}`` with the
same HTTP status: 400 (a malformed request: what is missing or wrong is named), 403 (no or a
bad ``api_key``), 404 (no such service or request), 405 (method).
"""

from __future__ import annotations

import datetime as dt
import json
from xml.etree import ElementTree as ET

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from yiwang.exchange import credentials
from yiwang.feedback import selectors, services
from yiwang.feedback.errors import FeedbackError
from yiwang.feedback.models import Category, Item
from yiwang.identity.models import Region

DEFAULT_DAYS = 90
MAX_REQUESTS = 1000
CLOSED = (Item.Status.REPLIED, Item.Status.RATED, Item.Status.CLOSED)


class Refused(Exception):  # noqa: N818 — named for what happened
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


# --- rendering ---------------------------------------------------------------------------------


def _xml_value(parent: ET.Element, key: str, value) -> None:
    child = ET.SubElement(parent, key)
    if isinstance(value, list):
        singular = {"attributes": "attribute", "values": "value", "keywords": "keyword"}.get(key, "item")
        for entry in value:
            if isinstance(entry, dict):
                node = ET.SubElement(child, singular)
                for k, v in entry.items():
                    _xml_value(node, k, v)
            else:
                ET.SubElement(child, singular).text = str(entry)
    elif isinstance(value, bool):
        child.text = "true" if value else "false"
    elif value is not None:
        child.text = str(value)


def _render(fmt: str, root: str, element: str, data, status: int = 200) -> HttpResponse:
    """``data``: a list of dicts (``root`` wraps ``element``s) or one dict (``root`` itself)."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False, default=str)
        return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    top = ET.Element(root)
    for entry in data if isinstance(data, list) else [data]:
        node = ET.SubElement(top, element) if isinstance(data, list) else top
        for key, value in entry.items():
            _xml_value(node, key, value)
    body = b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")
    return HttpResponse(body, status=status, content_type="text/xml; charset=utf-8")


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    return _render(fmt, "errors", "error", [{"code": status, "description": description}], status)


def _guard(view):
    """Turn ``Refused`` into the spec's error list, and refuse other methods with 405."""

    def wrapped(request: HttpRequest, *args, fmt: str, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Refused as exc:
            return _error(fmt, exc.status, exc.description)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def _method(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise Refused(405, _("Use %(methods)s here.") % {"methods": " or ".join(allowed)})


# --- services ---------------------------------------------------------------------------------


def _service(code: str, label) -> dict:
    return {
        "service_code": code,
        "service_name": str(label),
        "description": str(label),
        "metadata": True,
        "type": "batch",
        "keywords": "12345",
        "group": "12345",
    }


@_guard
def discovery(request: HttpRequest, *, fmt: str) -> HttpResponse:
    _method(request, "GET")
    base = request.build_absolute_uri("/open311/v2/")
    data = {
        "changeset": "2026-12-01T00:00:00+08:00",
        "contact": "12345",
        "key_service": _("API keys are created by the data stewards of a department (exchange API keys)."),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-12-01T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return _render(fmt, "discovery", "discovery", data)


@_guard
def services_list(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET services: the categories of 12345."""
    _method(request, "GET")
    return _render(fmt, "services", "service", [_service(code, label) for code, label in Category.choices])


@_guard
def service_definition(request: HttpRequest, *, code: str, fmt: str) -> HttpResponse:
    _method(request, "GET")
    if code not in Category.values:
        raise Refused(404, _("There is no service with the code “%(code)s”.") % {"code": code[:40]})
    data = {
        "service_code": code,
        "attributes": [
            {
                "variable": True,
                "code": "kind",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": _("Complaint when not given."),
                "order": 1,
                "description": _("Is it a complaint, a suggestion or a consultation?"),
                "values": [{"key": value, "name": str(label)} for value, label in Item.Kind.choices],
            }
        ],
    }
    return _render(fmt, "service_definition", "service_definition", data)


# --- requests ---------------------------------------------------------------------------------


def _w3c(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _request_view(item: Item) -> dict:
    public = selectors.public_view(item)
    closed = item.status in CLOSED
    updated = max(
        t for t in (item.filed_at, item.routed_at, item.accepted_at, item.replied_at, item.closed_at) if t
    )
    expected = (
        dt.datetime.combine(item.due_date, dt.time(18, 0), tzinfo=timezone.get_current_timezone())
        if item.due_date
        else None
    )
    return {
        "service_request_id": public.number,
        "status": "closed" if closed else "open",
        "status_notes": public.reply or public.status_label,
        "service_name": str(Category(public.category).label) if public.category in Category.values else "",
        "service_code": public.category,
        "description": public.text,
        "agency_responsible": public.department,
        "service_notice": "",
        "requested_datetime": _w3c(item.filed_at),
        "updated_datetime": _w3c(updated),
        "expected_datetime": _w3c(expected),
        "address": public.area,
        "address_id": "",
        "zipcode": "",
        "lat": float(public.latitude) if public.latitude is not None else None,
        "long": float(public.longitude) if public.longitude is not None else None,
        "media_url": "",
    }


def _date(value: str, name: str) -> dt.datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value.strip().replace(" ", "+"))
    if parsed is None:
        raise Refused(
            400, _("%(name)s must be a W3C date and time, e.g. 2026-12-01T00:00:00+08:00.") % {"name": name}
        )
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@csrf_exempt  # a system's API key, not a session: no CSRF
@_guard
def requests(request: HttpRequest, *, fmt: str) -> HttpResponse:
    """GET requests (search) or POST requests (file one)."""
    _method(request, "GET", "POST")
    if request.method == "POST":
        return _file(request, fmt)
    params = request.GET
    queryset = Item.objects.select_related("region__parent", "department").order_by("-filed_at", "-pk")
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        if len(ids) > 100:
            raise Refused(400, _("Ask for at most 100 service_request_id at once."))
        queryset = queryset.filter(number__in=ids)
    else:
        start = _date(params.get("start_date", ""), "start_date")
        end = _date(params.get("end_date", ""), "end_date")
        if start and end and start > end:
            raise Refused(400, _("start_date must be before end_date."))
        if start is None:
            start = (end or timezone.now()) - dt.timedelta(days=DEFAULT_DAYS)
        queryset = queryset.filter(filed_at__gte=start)
        if end is not None:
            queryset = queryset.filter(filed_at__lte=end)
        codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
        if codes:
            unknown = [c for c in codes if c not in Category.values]
            if unknown:
                raise Refused(
                    400, _("Unknown service_code: %(codes)s.") % {"codes": ", ".join(unknown)[:100]}
                )
            queryset = queryset.filter(category__in=codes)
        status = params.get("status", "").strip()
        if status == "open":
            queryset = queryset.exclude(status__in=CLOSED)
        elif status == "closed":
            queryset = queryset.filter(status__in=CLOSED)
        elif status:
            raise Refused(400, _("status must be open or closed."))
    return _render(fmt, "service_requests", "request", [_request_view(i) for i in queryset[:MAX_REQUESTS]])


@_guard
def request(request: HttpRequest, *, request_id: str, fmt: str) -> HttpResponse:
    _method(request, "GET")
    item = selectors.item_by_number(request_id)
    if item is None:
        raise Refused(404, _("There is no service request “%(id)s”.") % {"id": request_id[:40]})
    return _render(fmt, "service_requests", "request", [_request_view(item)])


def _file(request: HttpRequest, fmt: str) -> HttpResponse:
    data = request.POST
    key = (data.get("api_key") or "").strip() or credentials.parse_authorization(
        request.headers.get("Authorization"), request.headers.get("X-API-Key")
    )
    if not key:
        raise Refused(403, _("Send an api_key: an API key of your department's system (yw_…)."))
    try:
        client = credentials.authenticate(key)
    except credentials.CredentialRefused as exc:
        raise Refused(403, exc.message) from exc
    code = (data.get("service_code") or "").strip()
    if not code:
        raise Refused(400, _("service_code is required: see GET services."))
    if code not in Category.values:
        raise Refused(400, _("There is no service with the code “%(code)s”.") % {"code": code[:40]})
    lat, lon, address = (
        data.get("lat", "").strip(),
        data.get("long", "").strip(),
        data.get("address_string", ""),
    )
    if not (lat and lon) and not address.strip():
        raise Refused(400, _("A location is required: lat and long, or address_string."))
    jurisdiction = (data.get("jurisdiction_id") or "").strip()
    if jurisdiction:
        region = Region.objects.filter(code=jurisdiction[:12]).first()
        if region is None:
            raise Refused(
                400,
                _("There is no jurisdiction_id “%(code)s” (use a region code).")
                % {"code": jurisdiction[:12]},
            )
    else:
        region = client.department.region
    kind = (data.get("attribute[kind]") or Item.Kind.COMPLAINT).strip()
    if kind not in Item.Kind.values:
        raise Refused(400, _("attribute[kind] must be complaint, suggestion or consultation."))
    name = " ".join(p for p in (data.get("last_name", "").strip(), data.get("first_name", "").strip()) if p)
    try:
        item = services.item_file(
            kind=kind,
            text=data.get("description", ""),
            region=region,
            category=code,
            address=address,
            latitude=lat or None,
            longitude=lon or None,
            source=Item.Source.OPEN311,
            client=client,
            contact={"name": name, "phone": data.get("phone", ""), "email": data.get("email", "")},
            actor=client,
        )
    except FeedbackError as exc:
        fields = {"text": "description", "latitude": "lat", "longitude": "long", "address": "address_string"}
        described = "; ".join(f"{fields.get(k, k)}: {v}" for k, v in exc.errors.items()) or exc.message
        raise Refused(400, described) from exc
    notice = _("Filed. The 12345 office routes it to the department in charge.")
    body = [{"service_request_id": item.number, "service_notice": notice, "account_id": ""}]
    return _render(fmt, "service_requests", "request", body)
