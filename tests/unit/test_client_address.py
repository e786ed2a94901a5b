"""Whose address per-address limits count: X-Forwarded-For is believed only from a proxy."""

from __future__ import annotations

import pytest

from livecommerce.config import ConfigError, build_settings
from livecommerce.web.client_address import TrustedProxies

PROXY = "10.0.0.5"


def test_without_trusted_proxies_the_tcp_peer_is_the_client() -> None:
    assert TrustedProxies([]).client_of("203.0.113.9", ["198.51.100.1"]) == "203.0.113.9"


def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"])
    assert proxies.client_of("203.0.113.9", ["198.51.100.1"]) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"])
    # The client wrote "1.2.3.4" itself; the proxy appended the address it saw.
    assert proxies.client_of(PROXY, ["1.2.3.4, 198.51.100.7"]) == "198.51.100.7"
    assert proxies.client_of(PROXY, ["1.2.3.4", "198.51.100.7, 10.0.0.9"]) == "198.51.100.7"


def test_a_garbled_forwarded_for_header_counts_the_proxy_not_a_made_up_address() -> None:
    proxies = TrustedProxies(["10.0.0.0/8"])
    assert proxies.client_of(PROXY, ["198.51.100.7, not-an-ip"]) == PROXY
    assert proxies.client_of(PROXY, []) == PROXY


def test_no_peer_is_unknown() -> None:
    assert TrustedProxies(["10.0.0.0/8"]).client_of(None, ["1.2.3.4"]) == "unknown"


def test_trusted_proxies_setting_names_a_bad_network() -> None:
    with pytest.raises(ConfigError, match=r"server\.trusted_proxies"):
        build_settings([("test", {"server": {"trusted_proxies": ["10.0.0.0/33"]}})])


def test_an_ipv4_client_of_a_dual_stack_socket_is_one_address_with_its_ipv4_spelling() -> None:
    assert TrustedProxies([]).client_of("::ffff:203.0.113.9", []) == "203.0.113.9"
    proxies = TrustedProxies(["10.0.0.0/8"])
    assert proxies.client_of("::ffff:10.0.0.5", ["::ffff:198.51.100.7"]) == "198.51.100.7"
