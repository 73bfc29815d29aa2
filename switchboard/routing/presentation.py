"""Which number the far end sees when an employee calls or texts out (R14, R15, R16, R18).

- R14: someone with an extension may hide the mobile: calls show the extension's full number.
- R15: an SMS always shows the real mobile; it is never hidden.
- R16: hiding the extension, or hiding the mobile without an extension, needs an exception;
  with one, the call is presented as withheld (anonymous).
- R18: a secret mobile is never presented. Where R15 would force it out (an SMS), the
  switchboard refuses to send rather than reveal it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from switchboard.directory.model import Person
from switchboard.directory.numbers import NumberPlan


class OutboundKind(StrEnum):
    CALL = "call"
    SMS = "sms"


@dataclass(frozen=True, slots=True)
class Presentation:
    allowed: bool
    """False: the switchboard must not carry this out (see the explanation)."""
    number: str | None
    """The E.164 number the far end sees; None when withheld or refused."""
    withheld: bool
    """Presented as anonymous (SIP: Privacy: id, RFC 3323/3325)."""
    explanation: str


def present_outbound(person: Person, plan: NumberPlan, kind: OutboundKind) -> Presentation:
    extension_number = (
        plan.e164_of_extension(person.extension) if person.extension is not None else None
    )
    if kind is OutboundKind.SMS:
        if person.mobile is None:
            return Presentation(False, None, False, "No mobile number: an SMS cannot be sent (R4).")
        if person.secret_mobile:
            return Presentation(
                False,
                None,
                False,
                "An SMS always shows the real mobile (R15) and this mobile is secret (R18): "
                "the switchboard will not send it.",
            )
        return Presentation(
            True, person.mobile, False, "An SMS always shows the real mobile number (R15)."
        )

    hides_mobile = person.hide_mobile or person.secret_mobile or person.mobile is None
    if not hides_mobile:
        return Presentation(True, person.mobile, False, "The mobile number is shown (R17).")
    why = (
        "the mobile is secret (R18)"
        if person.secret_mobile
        else "the person hides the mobile (R14)"
        if person.hide_mobile
        else "there is no mobile (R4)"
    )
    if extension_number is not None and not person.hide_extension:
        return Presentation(
            True,
            extension_number,
            False,
            f"The extension's full number is shown because {why}.",
        )
    if extension_number is not None:
        reason = "the extension is hidden by an exception (R16)"
    else:
        reason = "there is no extension to show instead"
    return Presentation(
        True,
        None,
        True,
        f"The call is presented as withheld: {why} and {reason}.",
    )


def present_emergency(
    person: Person, plan: NumberPlan, reception_extension: str | None
) -> Presentation:
    """The number an emergency call shows: one the emergency centre can call back.

    The extension's full number first, even where an exception hides it (R16 yields to
    safety); else the mobile, unless it is secret (R18 still holds: the call goes out, with
    another callback number); else the organisation's reception. Withheld only when the
    deployment gives no number at all, and then the call still goes out.
    """
    if person.extension is not None:
        number = plan.e164_of_extension(person.extension)
        if number is not None:
            return Presentation(
                True, number, False, "An emergency call shows the extension's full number."
            )
    if person.mobile is not None and not person.secret_mobile:
        return Presentation(
            True, person.mobile, False, "An emergency call without an extension shows the mobile."
        )
    reception = (
        plan.e164_of_extension(reception_extension) if reception_extension is not None else None
    )
    if reception is not None:
        return Presentation(
            True,
            reception,
            False,
            "An emergency call shows the organisation's reception: the person has no "
            "extension and the mobile is secret (R18).",
        )
    return Presentation(
        True,
        None,
        True,
        "No number can be shown for this emergency call (no extension, a secret mobile and "
        "no reception); it goes out withheld.",
    )
