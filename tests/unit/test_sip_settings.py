"""The ``[sip]`` config table: values, defaults and errors that name file and key."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from switchboard.settings.config import ConfigError, load_settings
from switchboard.settings.resources import bundled
from switchboard.settings.sip import HostPort, SipMode, parse_host_port, parse_trunk


def _config(tmp_path: Path, sip: str) -> Path:
    path = tmp_path / "sb.toml"
    base = bundled("configs/sml.toml").read_text(encoding="utf-8")
    base = base.partition("\n[sip]\n")[0]  # the bundled table, replaced by the test's
    path.write_text(base + sip, "utf-8")
    return path


def test_defaults_without_a_sip_table(tmp_path: Path) -> None:
    sip = load_settings(_config(tmp_path, "")).sip
    assert sip.mode is SipMode.REDIRECT
    assert sip.trunk is None
    assert sip.trusted == ()
    assert sip.digest_algorithms == ("MD5",)  # common phones as shipped (issue 16)
    assert sip.blocked_destinations == ()


def test_the_bundled_configs_block_premium_numbers() -> None:
    assert load_settings(bundled("configs/sml.toml")).sip.blocked_destinations == (
        "0900",
        "0939",
        "0944",
        "099",
    )


def test_a_full_table(tmp_path: Path) -> None:
    sip = load_settings(
        _config(
            tmp_path,
            """
[sip]
listen = "[::1]:5070"
mode = "proxy"
trunk = "192.0.2.10:5060"
trusted = ["10.0.0.0/8", "192.0.2.10"]
realm = "sml.example"
blocked_destinations = ["0900", "099"]
digest_algorithms = ["MD5"]
rate_limit = 50
""",
        )
    ).sip
    assert sip.listen == HostPort("::1", 5070)
    assert str(sip.listen) == "[::1]:5070"
    assert sip.mode is SipMode.PROXY
    assert sip.trunk == HostPort("192.0.2.10", 5060)
    assert sip.trusted == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.10/32"),
    )
    assert (sip.realm, sip.blocked_destinations) == ("sml.example", ("0900", "099"))
    assert (sip.digest_algorithms, sip.rate_limit) == (("MD5",), 50)


@pytest.mark.parametrize(
    ("table", "key", "words"),
    [
        ('mode = "b2bua"', "sip.mode", "'redirect' or 'proxy'"),
        ('trunk = "operator_1.example:5060"', "sip.trunk", "not an IP address or a host name"),
        ('trunk = "192.0.2.300"', "sip.trunk", "not an IP address or a host name"),
        ('trunk = "operator.example:0"', "sip.trunk", "port 1-65535"),
        ('name_server = "dns.example"', "sip.name_server", "an IP address and a port"),
        ('listen = "host:99999"', "sip.listen", "0-65535"),
        ('trusted = ["10.0.0.300/8"]', "sip.trusted", "not an address"),
        ('trusted = "10.0.0.0/8"', "sip.trusted", "list of strings"),
        ('blocked_destinations = ["09x0"]', "sip.blocked_destinations", "digits"),
        ('digest_algorithms = ["SHA-512"]', "sip.digest_algorithms", "supported"),
        ('digest_algorithms = ["MD5", "MD5"]', "sip.digest_algorithms", "once"),
        ("rate_limit = 0", "sip.rate_limit", "1-100000"),
        ('relam = "typo"', "sip.relam", "unknown key"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith("sip.") else None,
)
def test_errors_name_the_key(tmp_path: Path, table: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(_config(tmp_path, f"\n[sip]\n{table}\n"))
    assert caught.value.key == key
    assert words in caught.value.problem


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:5060", HostPort("127.0.0.1", 5060)),
        ("[2001:db8::1]:5061", HostPort("2001:db8::1", 5061)),
        ("2001:db8::1", HostPort("2001:db8::1", 5060)),
        ("sip.example", HostPort("sip.example", 5060)),
    ],
)
def test_host_port(text: str, expected: HostPort) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize("bad", ["", ":5060", "[::1", "[::1]x", "h:port"])
def test_bad_host_port(bad: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        parse_host_port(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.10", HostPort("192.0.2.10", 5060)),
        ("[2001:db8::1]:5080", HostPort("2001:db8::1", 5080)),
        ("sip.operator.example", HostPort("sip.operator.example", 5060)),
        ("sbc-1.operator.example.:5070", HostPort("sbc-1.operator.example.", 5070)),
        ("localhost:5999", HostPort("localhost", 5999)),
    ],
)
def test_a_trunk_is_an_address_or_a_host_name(text: str, expected: HostPort) -> None:
    assert parse_trunk(text) == expected


@pytest.mark.parametrize(
    "bad",
    ["-sbc.example", "sbc-.example", "a..example", "sbc.example_1", "10.0.0.256", "x" * 64, "å.se"],
)
def test_a_trunk_name_must_be_a_dns_name(bad: str) -> None:
    with pytest.raises(ValueError, match="not an IP address or a host name"):
        parse_trunk(bad)


def test_a_trunk_remembers_whether_its_port_was_written(tmp_path: Path) -> None:
    """A name without a port is looked up by SRV first (RFC 3263 §4.2); equal either way."""
    assert not parse_trunk("sip.operator.example").port_given
    assert parse_trunk("sip.operator.example:5060").port_given
    assert parse_trunk("sip.operator.example") == parse_trunk("sip.operator.example:5060")
    table = '\n[sip]\ntrunk = "sip.operator.example"\nname_server = "192.0.2.53"\n'
    sip = load_settings(_config(tmp_path, table)).sip
    assert sip.trunk is not None
    assert not sip.trunk.port_given
    assert sip.name_server == HostPort("192.0.2.53", 53)


def test_tcp_idle(tmp_path: Path) -> None:
    assert load_settings(_config(tmp_path, "")).sip.tcp_idle == 60
    assert load_settings(_config(tmp_path, "\n[sip]\ntcp_idle = 30\n")).sip.tcp_idle == 30
    for bad in ("0", "3601", '"60"', "true"):
        with pytest.raises(ConfigError) as caught:
            load_settings(_config(tmp_path, f"\n[sip]\ntcp_idle = {bad}\n"))
        assert caught.value.key == "sip.tcp_idle"
        assert "1-3600" in caught.value.problem


def test_flood_ban(tmp_path: Path) -> None:
    assert load_settings(_config(tmp_path, "")).sip.flood_ban == 60
    assert load_settings(_config(tmp_path, "\n[sip]\nflood_ban = 0\n")).sip.flood_ban == 0
    for bad in ("-1", "86401", '"60"', "1.5"):
        with pytest.raises(ConfigError) as caught:
            load_settings(_config(tmp_path, f"\n[sip]\nflood_ban = {bad}\n"))
        assert caught.value.key == "sip.flood_ban"
        assert "0-86400" in caught.value.problem
