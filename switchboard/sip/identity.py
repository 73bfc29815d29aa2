"""Caller-ID on calls and messages employees send out (R14, R15, R16, R18; RFC 3323, 3325).

The routing core's ``present_outbound`` decides *which* number the far end sees; this
module writes that into SIP. The outgoing leg keeps only headers on a list, so nothing a
phone or the operator put in (``P-Preferred-Identity``, ``Remote-Party-ID``, ``Diversion``,
``History-Info``, ...) can carry the real mobile onward, and the caller's identity is
swapped by dialog tag in both directions for the whole dialog: the far end only ever sees
the presented identity, the caller's side only ever sees its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from switchboard.directory.numbers import DialledKind, NumberPlan
from switchboard.routing.presentation import Presentation
from switchboard.sip.message import Headers, NameAddr, SipUri, param_value
from switchboard.sip.parse import format_name_addr, parse_name_addr

ANONYMOUS = NameAddr(SipUri("anonymous.invalid", user="anonymous"), display="Anonymous")

IDENTITY_HEADERS = (
    "P-Asserted-Identity",
    "P-Preferred-Identity",
    "Remote-Party-ID",
    "Privacy",
    "Diversion",
    "History-Info",
    "User-Agent",
    "Server",
)
"""Headers that name a party; never relayed from the caller's side of a hidden dialog."""

OUTBOUND_HEADERS = frozenset(
    {
        "via",
        "max-forwards",
        "to",
        "call-id",
        "cseq",
        "contact",
        "content-type",
        "content-disposition",
        "content-encoding",
        "content-language",
        "supported",
        "allow",
        "accept",
        "session-expires",
        "min-se",
        "record-route",
        "route",
        "expires",
        "event",
        "subscription-state",
    }
)
"""What an outgoing leg keeps; From, P-Asserted-Identity and Privacy are written anew."""


@dataclass(frozen=True, slots=True)
class IdentitySwap:
    """Within one dialog: the caller's identity as the far end sees it, and as it really is."""

    caller_tag: str
    presented: str
    """The From value (without tag) the far end sees."""
    original: str
    """The caller's own From value exactly as its phone wrote it, tag and all."""
    original_contact: str | None
    """The caller's own Contact URI, restored as Request-URI towards the caller."""
    presented_user: str | None = None
    """The user part the caller's Contact shows the far end (number or ``anonymous``)."""

    def towards_far_end(self, headers: Headers) -> Headers:
        """In-dialog traffic from the caller's side: the same identity as the INVITE had,
        and none of the headers that could carry the real number (re-INVITEs, answers)."""
        headers = _swap(headers, self.caller_tag, self.presented)
        headers = headers.without(*IDENTITY_HEADERS)
        contact = headers.get("Contact")
        if contact is None or self.presented_user is None:
            return headers
        addr = parse_name_addr(contact)
        hidden = NameAddr(replace(addr.uri, user=self.presented_user), params=addr.params)
        return headers.set("Contact", format_name_addr(hidden))

    def towards_caller(self, headers: Headers) -> Headers:
        return _swap(headers, self.caller_tag, self.original)


def _swap(headers: Headers, tag: str, value: str) -> Headers:
    items = list(headers.items)
    changed = False
    for i, (name, raw) in enumerate(items):
        if name.lower() not in {"from", "to"}:
            continue
        addr = parse_name_addr(raw)
        if addr.tag != tag:
            continue
        if tag_of(value) == tag:
            # The caller's own value goes back verbatim: re-formatting it would quote its
            # display name and drop parameters besides the tag (``epid``, ...).
            items[i] = (name, value)
        else:
            items[i] = (name, format_name_addr(parse_name_addr(value).with_tag(tag)))
        changed = True
    return Headers(tuple(items)) if changed else headers


def presented_identity(presentation: Presentation, domain: str) -> NameAddr:
    if presentation.withheld or presentation.number is None:
        return ANONYMOUS
    uri = SipUri(domain, user=presentation.number, params=())
    return NameAddr(uri.with_params(user="phone"))


def asserted_identity(number: str | None, domain: str) -> str | None:
    """P-Asserted-Identity for the trusted trunk (RFC 3325 §9.1); None when none exists."""
    if number is None:
        return None
    return f"<sip:{number}@{domain};user=phone>"


def outbound_headers(
    headers: Headers,
    presentation: Presentation,
    asserted: str | None,
    domain: str,
) -> tuple[Headers, IdentitySwap]:
    """Headers for the leg towards the far end, and the swap for the rest of the dialog."""
    original = parse_name_addr(headers.get("From") or "")
    tag = original.tag or ""
    presented = presented_identity(presentation, domain)
    kept = [(name, value) for name, value in headers.items if name.lower() in OUTBOUND_HEADERS]
    contact_values = [v for n, v in kept if n.lower() == "contact"]
    original_contact = None
    if contact_values:
        contact = parse_name_addr(contact_values[0])
        original_contact = contact.uri
        hidden_user = "anonymous" if presentation.withheld else presentation.number
        rewritten = format_name_addr(
            NameAddr(
                SipUri(
                    contact.uri.host,
                    user=hidden_user,
                    port=contact.uri.port,
                    params=contact.uri.params,
                    scheme=contact.uri.scheme,
                ),
                params=contact.params,
            )
        )
        kept = [(n, rewritten if n.lower() == "contact" else v) for n, v in kept]
    # An RFC 2543 phone may send no tag at all: then none is invented here either.
    kept.insert(0, ("From", format_name_addr(presented.with_tag(tag) if tag else presented)))
    if asserted is not None:
        kept.append(("P-Asserted-Identity", asserted))
    if presentation.withheld:
        kept.append(("Privacy", "id"))
    swap = IdentitySwap(
        caller_tag=tag,
        presented=format_name_addr(presented),
        original=headers.get("From") or "",
        original_contact=None if original_contact is None else _uri_text(original_contact),
        presented_user="anonymous" if presentation.withheld else presentation.number,
    )
    return Headers(tuple(kept)), swap


def _uri_text(uri: SipUri) -> str:
    return format_name_addr(NameAddr(uri))[1:-1]


def blocked_prefix(dialled_digits: str, plan: NumberPlan, prefixes: tuple[str, ...]) -> str | None:
    """The configured premium/payment prefix a dialled number falls under, if any."""
    try:
        dialled = plan.classify(dialled_digits)
    except ValueError:
        return None
    if dialled.e164 is None:
        return None
    national = dialled.e164[1 + len(plan.country_code) :]
    if plan.trunk_prefix and national.startswith(plan.trunk_prefix):
        # "+46 0900 ..." (a trunk prefix kept after the country code) reaches 0900 too.
        national = national[len(plan.trunk_prefix) :]
    for prefix in prefixes:
        nsn = prefix
        if plan.trunk_prefix and nsn.startswith(plan.trunk_prefix):
            nsn = nsn[len(plan.trunk_prefix) :]
        if dialled.e164.startswith(f"+{plan.country_code}") and national.startswith(nsn):
            return prefix
    return None


def is_outside(dialled_digits: str, plan: NumberPlan) -> bool:
    """A number that is not one of ours and that the trunk can reach."""
    try:
        dialled = plan.classify(dialled_digits)
    except ValueError:
        return False
    return dialled.extension is None and (
        dialled.kind is not DialledKind.EXTENSION and dialled.e164 is not None
    )


def tag_of(header_value: str) -> str | None:
    return param_value(parse_name_addr(header_value).params, "tag")
