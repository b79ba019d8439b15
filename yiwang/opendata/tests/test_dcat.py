"""/catalog.ttl and /catalog.jsonld conform to the official DCAT-AP 3.0.0 SHACL shapes
(vendored in ``shapes/``, see ``shapes/SOURCE.md``), checked with pySHACL."""

import warnings
from pathlib import Path

import pytest
from django.test import Client
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

pytestmark = pytest.mark.django_db
SHAPES = Path(__file__).parent / "shapes" / "dcat-ap-SHACL.ttl"


@pytest.fixture(scope="module")
def shapes():
    return Graph().parse(SHAPES, format="turtle")


def _catalog(fmt: str) -> Graph:
    response = Client().get(f"/catalog.{fmt}")
    assert response.status_code == 200
    with warnings.catch_warnings():
        # rdflib's own JSON-LD parser builds a ConjunctiveGraph, which rdflib itself deprecates
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        return Graph().parse(data=response.content, format="turtle" if fmt == "ttl" else "json-ld")


@pytest.mark.parametrize("fmt", ["ttl", "jsonld"])
def test_the_catalog_conforms_to_dcat_ap_3(portal, shapes, fmt):
    graph = _catalog(fmt)
    conforms, _report, text = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert conforms, text[:3000]
    datasets = set(graph.subjects(RDF.type, DCAT.Dataset))
    assert len(datasets) >= 105
    assert len(set(graph.subjects(RDF.type, DCAT.Distribution))) == 3 * len(datasets)


def test_both_serialisations_hold_the_same_graph(portal):
    ttl, jsonld = _catalog("ttl"), _catalog("jsonld")
    assert len(ttl) == len(jsonld)
    assert set(ttl.subjects(RDF.type, DCAT.Dataset)) == set(jsonld.subjects(RDF.type, DCAT.Dataset))


def test_a_conditional_dataset_has_no_download_url_but_its_access_rights(portal):
    graph = _catalog("ttl")
    node = URIRef("http://testserver/data/datasets/610000-service-ratings/#dataset")
    assert (node, RDF.type, DCAT.Dataset) in graph
    assert graph.value(node, DCTERMS.accessRights) is not None
    for dist in graph.objects(node, DCAT.distribution):
        assert graph.value(dist, DCAT.downloadURL) is None


def test_the_shapes_catch_a_broken_catalog(portal, shapes):
    """The validation can fail: a dataset without its mandatory title and description."""
    graph = _catalog("ttl")
    node = URIRef("http://testserver/data/datasets/610100-bus-lines/#dataset")
    graph.remove((node, DCTERMS.title, None))
    graph.remove((node, DCTERMS.description, None))
    graph.add((node, DCTERMS.issued, Literal("not a date")))
    conforms, _report, text = validate(graph, shacl_graph=shapes, inference="none", allow_warnings=True)
    assert not conforms
    assert "title" in text and "description" in text
