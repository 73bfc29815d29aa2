"""Caller-ID on outbound calls (R14, R16, R18; RFC 3323, 3325) and the outbound policy.

Presentations come from the real ``present_outbound`` over real ``Person`` values; the
number plan is the bundled SML config. Phones' INVITEs are parsed from text.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberPlan
from switchboard.routing.presentation import OutboundKind, Presentation, present_outbound
from switchboard.settings.config import load_settings
from switchboard.settings.resources import bundled
from switchboard.sip.identity import (
    ANONYMOUS,
    IdentitySwap,
    asserted_identity,
    blocked_prefix,
    is_outside,
    outbound_headers,
    presented_identity,
    tag_of,
)
from switchboard.sip.message import Headers, NameAddr, Request, Response, SipUri
from switchboard.sip.parse import parse_message, parse_uri, serialise

PLAN: NumberPlan = load_settings(bundled("configs/sml.toml")).plan
DOMAIN = "sml.example"
TRUNK_URI = parse_uri("sip:+4631234567@198.51.100.7;user=phone")

MOBILE = "+46701234567"
EXTENSION_NUMBER = "+46523664123"
ANNA = Person(
    person_id="p-anna",
    name="Anna Berg",
    extension="64123",
    mobile=MOBILE,
    email="anna.berg@sotenas.se",
    organisation="sotenas",
)

CALLER_TAG = "9fxced76sl"
SDP = (
    b"v=0\r\n"
    b"o=- 2890844526 2890844526 IN IP4 192.0.2.20\r\n"
    b"s=-\r\n"
    b"c=IN IP4 192.0.2.20\r\n"
    b"t=0 0\r\n"
    b"m=audio 49172 RTP/AVP 8 0\r\n"
    b"a=rtpmap:8 PCMA/8000\r\n"
)


def phone_invite(mobile: str = MOBILE) -> Request:
    """An employee's outgoing call as it reaches us, full of the real mobile."""
    national = "0" + mobile.removeprefix("+46")
    lines = [
        "INVITE sip:0311234567@sml.example;user=phone SIP/2.0",
        "Via: SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKc8a2f3e;rport",
        "Max-Forwards: 70",
        f'From: "Anna Berg" <sip:{mobile}@sml.example;user=phone>;tag={CALLER_TAG}',
        "To: <sip:0311234567@sml.example;user=phone>",
        "Call-ID: 3c26a5a8-e1f4@192.0.2.20",
        "CSeq: 102 INVITE",
        f'Contact: "Anna Berg" <sip:{mobile}@192.0.2.20:5062;transport=udp>;expires=3600',
        f'P-Preferred-Identity: "Anna Berg" <sip:{mobile}@sml.example;user=phone>',
        f'Remote-Party-ID: "Anna" <sip:{mobile}@sml.example>;party=calling;privacy=off',
        f"Diversion: <tel:{national}>;reason=unconditional;counter=1",
        f"History-Info: <sip:{mobile}@sml.example>;index=1",
        f"P-Asserted-Identity: <tel:{mobile}>",
        "Privacy: none",
        f"User-Agent: Softphone 3.1 ({national})",
        "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS",
        "Supported: replaces, timer",
        "Content-Type: application/sdp",
        f"Content-Length: {len(SDP)}",
        "",
        "",
    ]
    msg = parse_message("\r\n".join(lines).encode() + SDP)
    assert isinstance(msg, Request)
    return msg


def asserted_for(person: Person, presentation: Presentation) -> str | None:
    """What call handling asserts to the trusted trunk (as ``calls._outbound`` does)."""
    extension = PLAN.e164_of_extension(person.extension) if person.extension else None
    return asserted_identity(presentation.number or extension, DOMAIN)


def outbound(person: Person, invite: Request) -> tuple[Headers, IdentitySwap]:
    presentation = present_outbound(person, PLAN, OutboundKind.CALL)
    return outbound_headers(
        invite.headers, presentation, asserted_for(person, presentation), DOMAIN
    )


def kept(from_: str, contact: str) -> tuple[tuple[str, str], ...]:
    """The phone's whitelisted fields, in its order, after our From."""
    return (
        ("From", from_),
        ("Via", "SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKc8a2f3e;rport"),
        ("Max-Forwards", "70"),
        ("To", "<sip:0311234567@sml.example;user=phone>"),
        ("Call-ID", "3c26a5a8-e1f4@192.0.2.20"),
        ("CSeq", "102 INVITE"),
        ("Contact", contact),
        *(("Allow", m) for m in ("INVITE", "ACK", "CANCEL", "BYE", "OPTIONS")),
        ("Supported", "replaces"),
        ("Supported", "timer"),
        ("Content-Type", "application/sdp"),
    )


def shown(number: str) -> tuple[tuple[str, str], ...]:
    return (
        *kept(
            f"<sip:{number}@sml.example;user=phone>;tag={CALLER_TAG}",
            f"<sip:{number}@192.0.2.20:5062;transport=udp>;expires=3600",
        ),
        ("P-Asserted-Identity", f"<sip:{number}@sml.example;user=phone>"),
    )


def withheld(asserted: str | None) -> tuple[tuple[str, str], ...]:
    pai = () if asserted is None else (("P-Asserted-Identity", asserted),)
    return (
        *kept(
            f'"Anonymous" <sip:anonymous@anonymous.invalid>;tag={CALLER_TAG}',
            "<sip:anonymous@192.0.2.20:5062;transport=udp>;expires=3600",
        ),
        *pai,
        ("Privacy", "id"),
    )


# (id, person, exact outbound header fields)
PRESENTATION_CASES = [
    ("r17-mobile-shown", ANNA, shown(MOBILE)),
    (
        "r14-extension-instead-of-hidden-mobile",
        replace(ANNA, hide_mobile=True),
        shown(EXTENSION_NUMBER),
    ),
    (
        "r16-both-hidden-by-exception-is-withheld-asserting-the-extension",
        replace(ANNA, hide_mobile=True, hide_extension=True),
        withheld(f"<sip:{EXTENSION_NUMBER}@sml.example;user=phone>"),
    ),
    (
        "r16-hidden-mobile-without-extension-is-withheld-asserting-nothing",
        replace(ANNA, hide_mobile=True, extension=None),
        withheld(None),
    ),
    (
        "r18-secret-mobile-shows-extension",
        replace(ANNA, secret_mobile=True),
        shown(EXTENSION_NUMBER),
    ),
    (
        "r18-secret-mobile-without-extension-is-withheld",
        replace(ANNA, secret_mobile=True, extension=None),
        withheld(None),
    ),
]


@pytest.mark.parametrize(
    ("person", "expected"),
    [c[1:] for c in PRESENTATION_CASES],
    ids=[c[0] for c in PRESENTATION_CASES],
)
def test_outbound_headers_per_presentation(
    person: Person, expected: tuple[tuple[str, str], ...]
) -> None:
    headers, _ = outbound(person, phone_invite())
    assert headers == Headers(expected)


def test_phone_identity_and_routing_history_headers_are_dropped() -> None:
    headers, _ = outbound(ANNA, phone_invite())
    names = {name.lower() for name, _ in headers.items}
    assert names.isdisjoint(
        {"p-preferred-identity", "remote-party-id", "diversion", "history-info", "user-agent"}
    )
    # The phone's own P-Asserted-Identity and Privacy are replaced, not kept beside ours.
    assert headers.get_all("P-Asserted-Identity") == (f"<sip:{MOBILE}@sml.example;user=phone>",)
    assert headers.get_all("Privacy") == ()


SECRET = replace(ANNA, secret_mobile=True)
_SECRET_VARIANTS = st.sampled_from(
    [
        SECRET,
        replace(SECRET, hide_mobile=True),
        replace(SECRET, hide_extension=True),
        replace(SECRET, extension=None),
        replace(SECRET, extension="18007", organisation="munkedal"),
    ]
)


@settings(max_examples=150, deadline=None)
@given(subscriber=st.integers(0, 99_999_999), variant=_SECRET_VARIANTS)
def test_r18_secret_mobile_never_leaves_in_any_form(subscriber: int, variant: Person) -> None:
    mobile = f"+467{subscriber:08d}"
    significant = mobile.removeprefix("+46")  # in +46..., 07..., 0046...: all forms
    person = replace(variant, mobile=mobile)
    invite = phone_invite(mobile)
    assert significant in serialise(invite).decode()  # the phone did put it everywhere
    headers, _ = outbound(person, invite)
    data = serialise(Request("INVITE", TRUNK_URI, headers, invite.body)).decode()
    assert significant not in data


# -- IdentitySwap: the rest of the dialog ------------------------------------------------

FAR_TAG = "314159"
FAR_END = f"<sip:+4631234567@198.51.100.7;user=phone>;tag={FAR_TAG}"

# (id, the caller's From as its phone writes it)
CALLER_FROMS = [
    ("quoted-display", f'"Anna Berg" <sip:64123@sml.example>;tag={CALLER_TAG}'),
    ("rfc3261-unquoted-display", f"Anna <sip:64123@sml.example>;tag={CALLER_TAG}"),
    ("no-display", f"<sip:64123@sml.example;user=phone>;tag={CALLER_TAG}"),
    ("lync-epid-after-tag", f"<sip:anna@sml.example>;tag={CALLER_TAG};epid=5a3c1e9b0d"),
    ("bare-addr-spec", f"sip:64123@sml.example;tag={CALLER_TAG}"),
]


def in_dialog(from_: str, to: str) -> Headers:
    return Headers(
        (
            ("Via", "SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKbye1"),
            ("Max-Forwards", "70"),
            ("From", from_),
            ("To", to),
            ("Call-ID", "3c26a5a8-e1f4@192.0.2.20"),
            ("CSeq", "103 BYE"),
        )
    )


def swap_for(from_: str) -> IdentitySwap:
    invite = phone_invite()
    headers = invite.headers.set("From", from_)
    _, swap = outbound(replace(ANNA, hide_mobile=True), invite.with_headers(headers))
    return swap


PRESENTED = f"<sip:{EXTENSION_NUMBER}@sml.example;user=phone>;tag={CALLER_TAG}"


@pytest.mark.parametrize("original", [c[1] for c in CALLER_FROMS], ids=[c[0] for c in CALLER_FROMS])
def test_swap_round_trip_from_the_caller_restores_the_original_exactly(original: str) -> None:
    swap = swap_for(original)
    caller_bye = in_dialog(original, FAR_END)
    towards_far = swap.towards_far_end(caller_bye)
    assert towards_far == caller_bye.set("From", PRESENTED)
    assert swap.towards_caller(towards_far) == caller_bye


@pytest.mark.parametrize("original", [c[1] for c in CALLER_FROMS], ids=[c[0] for c in CALLER_FROMS])
def test_swap_from_the_far_end_restores_the_callers_to(original: str) -> None:
    swap = swap_for(original)
    far_bye = in_dialog(FAR_END, PRESENTED)
    assert swap.towards_caller(far_bye) == far_bye.set("To", original)
    assert swap.towards_far_end(swap.towards_caller(far_bye)) == far_bye


def test_swap_leaves_other_tags_untouched() -> None:
    swap = swap_for(f'"Anna Berg" <sip:64123@sml.example>;tag={CALLER_TAG}')
    other = in_dialog("<sip:+4631234567@198.51.100.7>;tag=far-1", "<sip:x@sml.example>;tag=y")
    assert swap.towards_caller(other) is other
    assert swap.towards_far_end(other) == other
    untagged = in_dialog("<sip:+4631234567@198.51.100.7>;tag=far-1", "<sip:64123@sml.example>")
    assert swap.towards_caller(untagged) is untagged


def test_swap_on_the_answer_to_the_invite() -> None:
    original = f'"Anna Berg" <sip:{MOBILE}@sml.example;user=phone>;tag={CALLER_TAG}'
    headers, swap = outbound(replace(ANNA, hide_mobile=True), phone_invite())
    assert swap == IdentitySwap(
        caller_tag=CALLER_TAG,
        presented=f"<sip:{EXTENSION_NUMBER}@sml.example;user=phone>",
        original=original,
        original_contact=f"sip:{MOBILE}@192.0.2.20:5062;transport=udp",
        presented_user=EXTENSION_NUMBER,
    )
    ok = Response(
        200,
        "OK",
        Headers(
            (
                ("Via", "SIP/2.0/UDP 192.0.2.20:5062;branch=z9hG4bKc8a2f3e;rport"),
                ("From", headers.get("From") or ""),
                ("To", f"<sip:0311234567@sml.example;user=phone>;tag={FAR_TAG}"),
                ("Call-ID", "3c26a5a8-e1f4@192.0.2.20"),
                ("CSeq", "102 INVITE"),
            )
        ),
    )
    restored = swap.towards_caller(ok.headers)
    assert restored.get("From") == original
    assert restored.get("To") == f"<sip:0311234567@sml.example;user=phone>;tag={FAR_TAG}"


def test_withheld_swap_presents_anonymous() -> None:
    _, swap = outbound(replace(ANNA, secret_mobile=True, extension=None), phone_invite())
    assert swap.presented == '"Anonymous" <sip:anonymous@anonymous.invalid>'
    towards_far = swap.towards_far_end(in_dialog(f"<sip:x@y>;tag={CALLER_TAG}", FAR_END))
    assert towards_far.get("From") == (
        f'"Anonymous" <sip:anonymous@anonymous.invalid>;tag={CALLER_TAG}'
    )


# -- small pieces ------------------------------------------------------------------------


def test_presented_and_asserted_identity() -> None:
    shown_presentation = present_outbound(ANNA, PLAN, OutboundKind.CALL)
    assert presented_identity(shown_presentation, DOMAIN) == NameAddr(
        SipUri(DOMAIN, user=MOBILE).with_params(user="phone")
    )
    hidden = present_outbound(
        replace(ANNA, hide_mobile=True, extension=None), PLAN, OutboundKind.CALL
    )
    assert presented_identity(hidden, DOMAIN) is ANONYMOUS
    assert asserted_identity(MOBILE, DOMAIN) == f"<sip:{MOBILE}@{DOMAIN};user=phone>"
    assert asserted_identity(None, DOMAIN) is None


def test_tag_of() -> None:
    assert tag_of(f'"Anna" <sip:64123@sml.example>;tag={CALLER_TAG}') == CALLER_TAG
    assert tag_of("<sip:64123@sml.example;tag=uri-param>") is None


# -- outbound policy: blocked destinations and what counts as outside --------------------

BLOCKED = ("0900", "099")

# (id, dialled, blocked prefix or None)
BLOCKED_CASES = [
    ("0900-national", "0900123456", "0900"),
    ("0900-national-with-separators", "0900-12 34 56", "0900"),
    ("0900-e164", "+46900123456", "0900"),
    ("0900-00-international", "0046900123456", "0900"),
    ("099-national", "099123456", "099"),
    ("099-e164", "+4699123456", "099"),
    ("099-00-international", "004699123456", "099"),
    ("ordinary-national", "0311234567", None),
    ("ordinary-e164", "+4631234567", None),
    ("ordinary-00-international", "0046311234567", None),
    ("mobile", "0701234567", None),
    ("norwegian-900-is-not-swedish-0900", "+4790012345", None),
    ("norwegian-900-00-form", "004790012345", None),
    ("our-own-number", "0523664123", None),
    ("extension", "64123", None),
    ("090-is-not-0900", "0901234567", None),
    ("unreadable", "0900-CALL-ME", None),
]


@pytest.mark.parametrize(
    ("dialled", "expected"), [c[1:] for c in BLOCKED_CASES], ids=[c[0] for c in BLOCKED_CASES]
)
def test_blocked_prefix_with_the_sml_plan(dialled: str, expected: str | None) -> None:
    assert blocked_prefix(dialled, PLAN, BLOCKED) == expected


def test_nothing_is_blocked_without_prefixes() -> None:
    assert blocked_prefix("0900123456", PLAN, ()) is None


# (id, dialled, outside)
OUTSIDE_CASES = [
    ("national", "0311234567", True),
    ("e164", "+4631234567", True),
    ("00-international-sweden", "0046311234567", True),
    ("foreign", "+4790012345", True),
    ("mobile", "0701234567", True),
    ("sotenas-number-past-our-series", "0523664900", True),
    ("our-extension", "64123", False),
    ("our-national-number", "0523664123", False),
    ("our-e164-number", "+46523664123", False),
    ("our-munkedal-five-digit-series", "052418007", False),
    ("unknown-five-digit-extension", "99999", False),
    ("local-number-without-area-code", "664123", False),
    ("empty", "", False),
    ("letters", "anna", False),
]


@pytest.mark.parametrize(
    ("dialled", "expected"), [c[1:] for c in OUTSIDE_CASES], ids=[c[0] for c in OUTSIDE_CASES]
)
def test_is_outside(dialled: str, expected: bool) -> None:
    assert is_outside(dialled, PLAN) is expected


def test_in_dialog_requests_from_the_caller_side_carry_no_identity_headers() -> None:
    """R14/R18 for the rest of the dialog: a re-INVITE from the mobile's side may carry the
    real number in P-Asserted-Identity or its Contact; none of it reaches the far end."""
    swap = swap_for(f"<sip:{MOBILE}@sml.example>;tag={CALLER_TAG}")
    reinvite = (
        in_dialog(f"<sip:{MOBILE}@sml.example>;tag={CALLER_TAG}", "<sip:far@x>;tag=far-1")
        .append("Contact", f"<sip:{MOBILE}@192.0.2.20:5062>;+sip.instance=x")
        .append("P-Asserted-Identity", f"<sip:{MOBILE}@operator.example>")
        .append("P-Preferred-Identity", f"<tel:{MOBILE}>")
        .append("Remote-Party-ID", f"<sip:{MOBILE}@operator.example>;party=calling")
    )
    out = swap.towards_far_end(reinvite)
    assert MOBILE not in repr(out.items)
    assert MOBILE[1:] not in repr(out.items)
    assert out.get("Contact") == f"<sip:{EXTENSION_NUMBER}@192.0.2.20:5062>;+sip.instance=x"
    assert out.get("From") == f"<sip:{EXTENSION_NUMBER}@sml.example;user=phone>;tag={CALLER_TAG}"
