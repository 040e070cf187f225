"""The public endpoints' rate limit."""

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from solocrm.lib.ratelimit import client_ip, hit


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def _request(ip: str, forwarded: str = ""):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    return RequestFactory().post("/", REMOTE_ADDR=ip, **extra)


def test_it_allows_up_to_the_limit_then_refuses():
    request = _request("203.0.113.5")
    assert [hit("form", request, limit=3) for _ in range(5)] == [True, True, True, False, False]


def test_each_client_and_scope_counts_on_its_own():
    first, second = _request("203.0.113.5"), _request("203.0.113.6")
    assert hit("form", first, limit=1) and not hit("form", first, limit=1)
    assert hit("form", second, limit=1)
    assert hit("quote", first, limit=1)


def test_a_forwarded_header_is_ignored_unless_a_proxy_is_trusted(settings):
    request = _request("10.0.0.1", forwarded="198.51.100.7, 192.0.2.1")
    settings.SOLOCRM_TRUSTED_PROXY = False
    assert client_ip(request) == "10.0.0.1"
    settings.SOLOCRM_TRUSTED_PROXY = True
    assert client_ip(request) == "192.0.2.1"


def test_an_ipv6_visitor_is_counted_by_their_whole_64_network():
    first, neighbour = _request("2001:db8:1:2::1"), _request("2001:db8:1:2:ffff::9")
    elsewhere = _request("2001:db8:1:3::1")
    assert hit("form", first, limit=1) and not hit("form", neighbour, limit=1)
    assert hit("form", elsewhere, limit=1)


def test_without_a_request_everybody_counts_together():
    assert hit("form-all", None, limit=2) and hit("form-all", None, limit=2)
    assert not hit("form-all", None, limit=2)
