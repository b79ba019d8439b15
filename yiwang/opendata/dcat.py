"""The portal's catalog in DCAT-AP 3.0 (``/catalog.ttl``, ``/catalog.jsonld``), built with rdflib.

Every published dataset is a ``dcat:Dataset`` with its publisher (the organization, a
``foaf:Agent``), themes (``skos:Concept`` of the portal's theme scheme), keywords, licence,
update frequency (the EU frequency authority table) and one ``dcat:Distribution`` per download
format (media type from IANA, file type from the EU file-type table). The test validates the
output against the official DCAT-AP 3.0.0 SHACL shapes.
"""

from django.urls import reverse
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from yiwang.opendata import selectors
from yiwang.opendata.models import LICENCES, Dataset

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
LANGUAGE = URIRef("http://publications.europa.eu/resource/authority/language/ZHO")
FREQUENCIES = {
    "realtime": "UPDATE_CONT",
    "daily": "DAILY",
    "weekly": "WEEKLY",
    "monthly": "MONTHLY",
    "quarterly": "QUARTERLY",
    "yearly": "ANNUAL",
    "irregular": "IRREG",
}
MEDIA_TYPES = {
    "CSV": "text/csv",
    "JSON": "application/json",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = {"RDF_TURTLE": "text/turtle", "JSON_LD": "application/ld+json"}
ZH = "zh"


def _dt(value) -> Literal:
    return Literal(value.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)


def catalog_graph(base: str, datasets=None) -> Graph:
    """The catalog as an RDF graph; ``base``: the portal's absolute address (``https://host``)."""
    base = base.rstrip("/")
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("skos", SKOS), ("vcard", VCARD)):
        g.bind(prefix, ns)
    datasets = (
        datasets
        if datasets is not None
        else selectors.active()
        .select_related("organization", "resource")
        .prefetch_related("themes", "tags", "distributions")
        .order_by("name")
    )
    catalog = URIRef(base + reverse("opendata:datasets") + "#catalog")
    platform = URIRef(base + "/")
    g.add((catalog, RDF.type, DCAT.Catalog))
    g.add((catalog, DCTERMS.title, Literal("一网 · 公共数据开放平台", lang=ZH)))
    g.add((catalog, DCTERMS.title, Literal("yiwang open data portal", lang="en")))
    g.add((catalog, DCTERMS.description, Literal("省、市各部门依法开放的公共数据。", lang=ZH)))
    g.add(
        (
            catalog,
            DCTERMS.description,
            Literal("Public data opened by the province's departments.", lang="en"),
        )
    )
    g.add((catalog, DCTERMS.publisher, platform))
    g.add((platform, RDF.type, FOAF.Agent))
    g.add((platform, FOAF.name, Literal("一网 数字政府平台", lang=ZH)))
    home = URIRef(base + reverse("opendata:datasets"))
    g.add((catalog, FOAF.homepage, home))
    g.add((home, RDF.type, FOAF.Document))
    g.add((catalog, DCTERMS.language, LANGUAGE))
    g.add((LANGUAGE, RDF.type, DCTERMS.LinguisticSystem))
    scheme = URIRef(base + reverse("opendata:themes"))
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, DCTERMS.title, Literal("数据主题", lang=ZH)))
    g.add((catalog, DCAT.themeTaxonomy, scheme))
    themes_seen, orgs_seen, licences_seen = set(), set(), set()
    latest = None
    for dataset in datasets:
        latest = max(latest, dataset.metadata_modified) if latest else dataset.metadata_modified
        _dataset(g, base, catalog, scheme, dataset, themes_seen, orgs_seen, licences_seen)
    if latest:
        g.add((catalog, DCTERMS.modified, _dt(latest)))
    return g


def _dataset(g, base, catalog, scheme, dataset: Dataset, themes_seen, orgs_seen, licences_seen) -> None:
    page = base + reverse("opendata:dataset", kwargs={"code": dataset.name})
    node = URIRef(page + "#dataset")
    g.add((catalog, DCAT.dataset, node))
    g.add((node, RDF.type, DCAT.Dataset))
    g.add((node, DCTERMS.identifier, Literal(str(dataset.id))))
    g.add((node, DCTERMS.title, Literal(dataset.title, lang=ZH)))
    g.add((node, DCTERMS.description, Literal(dataset.notes or dataset.title, lang=ZH)))
    g.add((node, DCTERMS.issued, _dt(dataset.metadata_created)))
    g.add((node, DCTERMS.modified, _dt(dataset.metadata_modified)))
    g.add((node, DCAT.landingPage, URIRef(page)))
    g.add((URIRef(page), RDF.type, FOAF.Document))
    g.add((node, DCTERMS.language, LANGUAGE))
    org = dataset.organization
    publisher = URIRef(base + reverse("opendata:organization", kwargs={"code": org.code.lower()}))
    g.add((node, DCTERMS.publisher, publisher))
    if publisher not in orgs_seen:
        orgs_seen.add(publisher)
        g.add((publisher, RDF.type, FOAF.Agent))
        g.add((publisher, FOAF.name, Literal(org.name, lang=ZH)))
    contact = BNode()
    g.add((node, DCAT.contactPoint, contact))
    g.add((contact, RDF.type, VCARD.Kind))
    g.add((contact, RDF.type, VCARD.Organization))
    g.add((contact, VCARD.fn, Literal(org.name, lang=ZH)))
    if org.phone:
        g.add((contact, VCARD.hasTelephone, URIRef("tel:" + org.phone.replace(" ", ""))))
    frequency = FREQUENCIES.get(dataset.frequency)
    if frequency:
        g.add((node, DCTERMS.accrualPeriodicity, FREQUENCY[frequency]))
        g.add((FREQUENCY[frequency], RDF.type, DCTERMS.Frequency))
    for theme in dataset.themes.all():
        concept = URIRef(base + reverse("opendata:theme", kwargs={"code": theme.name}))
        g.add((node, DCAT.theme, concept))
        if concept not in themes_seen:
            themes_seen.add(concept)
            g.add((concept, RDF.type, SKOS.Concept))
            g.add((concept, SKOS.prefLabel, Literal(theme.title, lang=ZH)))
            if theme.title_en:
                g.add((concept, SKOS.prefLabel, Literal(theme.title_en, lang="en")))
            g.add((concept, SKOS.inScheme, scheme))
    for tag in dataset.tags.all():
        g.add((node, DCAT.keyword, Literal(tag.name, lang=ZH)))
    if dataset.access == "conditional":
        rights = BNode()
        g.add((node, DCTERMS.accessRights, rights))
        g.add((rights, RDF.type, DCTERMS.RightsStatement))
        g.add(
            (rights, DCTERMS.description, Literal("有条件开放：" + (dataset.conditions or "须申请"), lang=ZH))
        )
    licence_url = URIRef(
        LICENCES.get(dataset.license_id, ("", "https://creativecommons.org/licenses/by/4.0/"))[1]
    )
    if licence_url not in licences_seen:
        licences_seen.add(licence_url)
        g.add((licence_url, RDF.type, DCTERMS.LicenseDocument))
    for dist in dataset.distributions.all():
        fmt = dist.format
        dnode = URIRef(f"{page}#{fmt.lower()}")
        download = URIRef(
            base + reverse("opendata:download", kwargs={"code": dataset.name, "kind": fmt.lower()})
        )
        g.add((node, DCAT.distribution, dnode))
        g.add((dnode, RDF.type, DCAT.Distribution))
        g.add((dnode, DCTERMS.title, Literal(f"{dataset.title}（{fmt}）", lang=ZH)))
        access = download if dataset.access == "unconditional" else URIRef(page)
        g.add((dnode, DCAT.accessURL, access))
        # the shapes check classes without inference: what rdfs:range implies is stated
        g.add((access, RDF.type, RDFS.Resource))
        if dataset.access == "unconditional":
            g.add((dnode, DCAT.downloadURL, download))
        media = URIRef("http://www.iana.org/assignments/media-types/" + MEDIA_TYPES[fmt])
        g.add((dnode, DCAT.mediaType, media))
        g.add((media, RDF.type, DCTERMS.MediaType))
        g.add((dnode, DCTERMS.format, FILE_TYPE[fmt]))
        g.add((FILE_TYPE[fmt], RDF.type, DCTERMS.MediaTypeOrExtent))
        g.add((dnode, DCTERMS.license, licence_url))
        g.add((dnode, DCTERMS.modified, _dt(dataset.metadata_modified)))


def serialize(base: str, fmt: str) -> bytes:
    """The catalog as Turtle (``ttl``) or JSON-LD (``jsonld``)."""
    graph = catalog_graph(base)
    if fmt == "jsonld":
        context = {
            "dcat": str(DCAT),
            "dct": str(DCTERMS),
            "foaf": str(FOAF),
            "skos": str(SKOS),
            "vcard": str(VCARD),
        }
        return graph.serialize(format="json-ld", context=context, indent=1).encode()
    return graph.serialize(format="turtle").encode()
