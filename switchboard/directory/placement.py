"""Where a person without an extension belongs, when the import row does not say (issue 16).

A person's organisation normally comes from their number's series (R1). Someone without
an extension (R4) in a deployment of several organisations belongs, in this order, to the
organisation the row names (``csv_import``), to the organisation whose ``email_domains``
hold their e-mail's domain (or a parent of it: ``skola.sotenas.se`` under
``sotenas.se``), to the configured ``default_organisation``, or to the only organisation
there is. The e-mail domain and the default are guesses the data allows: each is
returned as an ``InferredOrganisation`` for the import's report, never applied silently.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from switchboard.directory.model import Organisation


class Inference(StrEnum):
    """How the organisation of a person without an extension was found."""

    EMAIL_DOMAIN = "email_domain"
    DEFAULT = "default"


@dataclass(frozen=True, slots=True)
class InferredOrganisation:
    """One row whose organisation was not written but found: reported, never silent."""

    line: int
    name: str
    organisation: str
    """The organisation's id."""
    how: Inference
    domain: str | None = None
    """The e-mail domain that said so (``EMAIL_DOMAIN`` only)."""

    def format(self, source: str) -> str:
        why = (
            f"from the e-mail domain {self.domain}"
            if self.how is Inference.EMAIL_DOMAIN
            else "the configured default_organisation"
        )
        return f"{source}:{self.line}: organisation: {self.name} -> {self.organisation} ({why})"


NO_ORGANISATION = "no_organisation"
"""``RowError.code`` of a person without an extension whose organisation nothing says."""


class Placement:
    """The deployment's organisations as an import row looks them up: by id or name, by
    e-mail domain, and the default for a person nothing else places."""

    def __init__(self, organisations: Sequence[Organisation], default: str | None) -> None:
        self.all = tuple(organisations)
        self.by_key = {o.org_id: o for o in organisations} | {
            o.name.lower(): o for o in organisations
        }
        self.by_domain = {d: o for o in organisations for d in o.email_domains}
        self.default = default

    def of_email(self, email: str | None) -> tuple[Organisation, str] | None:
        """The organisation listing the e-mail's domain or a parent of it, with the
        domain that matched."""
        if not email:
            return None
        domain = email.rpartition("@")[2].lower()
        while domain:
            org = self.by_domain.get(domain)
            if org is not None:
                return org, domain
            domain = domain.partition(".")[2]
        return None

    def place(
        self, line: int, name: str, email: str | None
    ) -> tuple[str | None, InferredOrganisation | None]:
        """The organisation id of a person without an extension whose row names none,
        and how it was inferred (None: certain, or not found)."""
        if len(self.all) == 1:
            return self.all[0].org_id, None
        found = self.of_email(email)
        if found is not None:
            org, domain = found
            return org.org_id, InferredOrganisation(
                line, name, org.org_id, Inference.EMAIL_DOMAIN, domain
            )
        if self.default is not None:
            return self.default, InferredOrganisation(line, name, self.default, Inference.DEFAULT)
        return None, None

    def unplaced(self) -> str:
        """What to do about a person ``place`` found no organisation for."""
        ids = ", ".join(o.org_id for o in self.all)
        return (
            "a person without an extension needs an organisation: write it in an "
            f"'organisation' column ({ids}), list their e-mail's domain under that "
            "organisation's email_domains, or set [switchboard] default_organisation in "
            "the configuration"
        )
