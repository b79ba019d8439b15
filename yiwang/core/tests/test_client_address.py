"""The client address behind reverse proxies: X-Forwarded-For is believed only from a peer in
TRUSTED_PROXIES, and then only its right-most untrusted hop."""

import ipaddress

import pytest
from django.test import RequestFactory

from yiwang.core.middleware import client_ip


def request(peer: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture
def proxies(settings):
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))
    return settings


def test_by_default_a_forged_header_is_ignored():
    assert client_ip(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_a_forged_header_from_an_untrusted_peer_is_ignored(proxies):
    assert client_ip(request("203.0.113.9", "10.1.1.1, 198.51.100.1")) == "203.0.113.9"


def test_through_a_trusted_proxy_the_real_client_is_used(proxies):
    assert client_ip(request("10.0.0.2", "198.51.100.7")) == "198.51.100.7"


def test_the_right_most_untrusted_hop_wins_over_what_the_client_prepended(proxies):
    # The client sent "X-Forwarded-For: 1.2.3.4"; its proxy appended the real address, then a
    # second trusted proxy appended the first one's.
    assert client_ip(request("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.3")) == "198.51.100.7"


def test_ipv6_proxies_and_clients(proxies):
    assert client_ip(request("2001:db8::1", "2001:db9::42")) == "2001:db9::42"


def test_a_trusted_proxy_without_a_header_is_the_client(proxies):
    assert client_ip(request("10.0.0.2")) == "10.0.0.2"


def test_a_malformed_hop_keeps_the_last_good_address(proxies):
    assert client_ip(request("10.0.0.2", "garbage, 10.0.0.3")) == "10.0.0.3"


def test_the_setting_refuses_what_is_not_an_address(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config import settings as config

    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, proxy.example.org")
    with pytest.raises(ImproperlyConfigured):
        config._networks("TRUSTED_PROXIES")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1, 2001:db8::/32")
    assert len(config._networks("TRUSTED_PROXIES")) == 2


def test_a_deploy_check_warns_behind_a_tls_proxy_without_trusted_proxies(settings):
    from yiwang.core.checks import check_proxy_addresses

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = ()
    assert [w.id for w in check_proxy_addresses(None)] == ["yiwang.W002"]
    settings.TRUSTED_PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)
    assert check_proxy_addresses(None) == []
