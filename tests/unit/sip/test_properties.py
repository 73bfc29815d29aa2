"""Round trips over generated values (hypothesis): what we write, we read back."""

from __future__ import annotations

import string

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.sip.message import Headers, NameAddr, Param, Request, Response, SipUri, Via
from switchboard.sip.parse import (
    StreamFramer,
    format_name_addr,
    format_uri,
    format_via,
    parse_message,
    parse_name_addr,
    parse_uri,
    parse_via,
    serialise,
)

ALNUM = string.ascii_letters + string.digits
TOKEN = ALNUM + "-.!%*_+`'~"
UNRESERVED = ALNUM + "-_.!~*'()"

tokens = st.text(TOKEN, min_size=1, max_size=8)
labels = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
hostnames = st.lists(labels, min_size=1, max_size=3).map(".".join)
ipv4 = st.ip_addresses(v=4).map(str)
ipv6 = st.ip_addresses(v=6).map(lambda a: f"[{a}]")
hosts = st.one_of(hostnames, ipv4, ipv6)
ports = st.none() | st.integers(0, 65535)
uri_params = st.lists(
    st.builds(
        Param,
        st.text(UNRESERVED + "[]/:&+$", min_size=1, max_size=6),
        st.none() | st.text(UNRESERVED + "[]/:&+$", max_size=6),
    ),
    max_size=4,
).map(tuple)
sip_uris = st.builds(
    SipUri,
    host=hosts,
    user=st.none() | st.text(UNRESERVED + "&=+$,;?/", min_size=1, max_size=10),
    password=st.none() | st.text(UNRESERVED + "&=+$,", max_size=6),
    port=ports,
    params=uri_params,
    headers=st.lists(
        st.tuples(
            st.text(UNRESERVED + "[]/?:+$", min_size=1, max_size=5),
            st.text(UNRESERVED + "[]/?:+$", max_size=5),
        ),
        max_size=3,
    ).map(tuple),
    scheme=st.sampled_from(["sip", "sips"]),
).filter(lambda u: u.user is not None or u.password is None)
tel_uris = st.builds(
    lambda number, params: SipUri("", number, params=params, scheme="tel"),
    st.text(string.digits + "+-.()", min_size=1, max_size=12),
    uri_params,
)
uris = st.one_of(sip_uris, tel_uris)
quoted = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=8).map(
    lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
)
header_params = st.lists(
    st.builds(Param, tokens, st.none() | st.text(TOKEN + ":[]", max_size=8) | quoted),
    max_size=4,
).map(tuple)
name_addrs = st.builds(
    NameAddr,
    uri=uris,
    display=st.none() | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
    params=header_params,
)
vias_ = st.builds(
    Via,
    transport=st.text(
        string.ascii_uppercase + string.digits + "-.!%*_+`'~", min_size=1, max_size=5
    ),
    host=hosts,
    port=ports,
    params=header_params,
)


@given(uris)
def test_uri_round_trip(uri: SipUri) -> None:
    assert parse_uri(format_uri(uri)) == uri


@given(name_addrs)
def test_name_addr_round_trip(value: NameAddr) -> None:
    assert parse_name_addr(format_name_addr(value)) == value


@given(vias_)
def test_via_round_trip(via: Via) -> None:
    assert parse_via(format_via(via)) == via


value_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=","), max_size=20
).map(lambda s: s.strip(" \t"))
extra_names = st.sampled_from(
    ["Subject", "User-Agent", "X-Custom", "Allow", "Supported", "Route", "P-Thing", "Date"]
)


@st.composite
def messages(draw: st.DrawFn) -> Request | Response:
    method = draw(st.sampled_from(["INVITE", "ACK", "BYE", "REGISTER", "X-NEW"]))
    fixed = [
        ("Via", format_via(draw(vias_))),
        ("From", format_name_addr(draw(name_addrs))),
        ("To", format_name_addr(draw(name_addrs))),
        ("Call-ID", draw(tokens) + "@" + draw(hostnames)),
        ("CSeq", f"{draw(st.integers(0, 2**31 - 1))} {method}"),
    ]
    extra = draw(st.lists(st.tuples(extra_names, value_text), max_size=5))
    body = draw(st.binary(max_size=40))
    items = draw(st.permutations([*fixed, *extra, ("Content-Length", str(len(body)))]))
    headers = Headers(tuple(items))
    if draw(st.booleans()):
        return Request(method, draw(uris), headers, body)
    reason = draw(st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=15))
    return Response(draw(st.integers(100, 699)), reason, headers, body)


@given(messages())
def test_message_round_trip(msg: Request | Response) -> None:
    assert parse_message(serialise(msg)) == msg


@settings(max_examples=50)
@given(st.lists(messages(), min_size=1, max_size=4), st.data())
def test_framer_chunking_does_not_matter(
    msgs: list[Request | Response], data: st.DataObject
) -> None:
    wire = [serialise(m) for m in msgs]
    stream = b"".join(data.draw(st.sampled_from([b"", b"\r\n", b"\r\n\r\n"])) + w for w in wire)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    framer = StreamFramer()
    out: list[bytes] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += framer.feed(stream[start:end])
    assert out == wire
    assert [parse_message(w) for w in out] == msgs
    assert not framer.has_partial
