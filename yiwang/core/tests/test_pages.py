import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_page_has_landmarks_and_skip_link(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="#main"' in html
    assert '<main id="main"' in html
    assert "<header" in html and "<footer" in html and "<nav" in html
    assert 'lang="zh-hans"' in html


def test_search_field_on_home_page_has_a_label(client):
    html = client.get("/").content.decode()
    assert '<label for="home-q">' in html
    assert 'id="home-q"' in html


def test_large_text_mode_switches_on_and_stays_on(client):
    response = client.post(reverse("core:care_mode"), {"on": "1", "next": "/accessibility"})
    assert response.status_code == 302
    assert response["Location"] == "/accessibility"
    assert 'class="care"' in client.get("/").content.decode()
    assert 'class="care"' in client.get(reverse("core:accessibility")).content.decode()
    client.post(reverse("core:care_mode"), {"on": "0"})
    assert 'class="care"' not in client.get("/").content.decode()


def test_large_text_mode_refuses_to_redirect_off_site(client):
    response = client.post(reverse("core:care_mode"), {"on": "1", "next": "https://evil.example.com/"})
    assert response["Location"] == "/"


def test_english_translation_is_served_after_switching_language(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/").content.decode()
    assert 'lang="en"' in html
    assert "Skip to main content" in html


def test_chinese_is_the_default_language(client):
    html = client.get("/").content.decode()
    assert "跳到主要内容" in html


def test_unknown_page_gets_a_friendly_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "<main" in response.content.decode()


def test_healthz_answers_ok(client):
    assert client.get(reverse("core:healthz")).json() == {"status": "ok"}


def test_every_response_carries_a_request_id(client):
    response = client.get("/", HTTP_X_REQUEST_ID="trace-12345678")
    assert response["X-Request-ID"] == "trace-12345678"
    forged = client.get("/", HTTP_X_REQUEST_ID="bad id with spaces")
    assert forged["X-Request-ID"] != "bad id with spaces"


def test_openapi_document_is_served(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "yiwang API"


def test_a_nul_character_in_the_query_is_refused_with_400(client):
    response = client.get("/services/items/%00/")
    assert response.status_code == 400
    api = client.get("/api/catalog/items?department=%00")
    assert api.status_code == 400
    assert api.json()["detail"]


def test_an_unknown_api_path_answers_in_the_api_error_shape(client):
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。", "errors": []}


def test_the_500_page_is_styled_bilingual_and_gives_the_request_number(rf):
    from yiwang.core.views import server_error

    request = rf.get("/")
    request.request_id = "3f2c9a0b1d2e4f60a7b8c9d0e1f2a3b4"
    response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert 'rel="stylesheet"' in html and "core/site.css" in html
    assert request.request_id in html
    assert "服务暂时不可用" in html and "Something went wrong" in html
