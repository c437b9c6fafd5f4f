"""The offline provider: deterministic rules, no key, no network.

It is the last resort when every LLM fails and the default when none is configured,
so it must never fail on a readable email. It does an honest job on typical
emails (labels, the company directory, sign-offs, relative dates) and reports
modest confidences, so that a real provider's answer wins any vote it takes part in.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from pydantic import SecretStr

from collabiq_llm.companies import CompanyDirectory, OwnOrg, load_directory
from collabiq_llm.email.input import EmailInput
from collabiq_llm.entities import ConfidenceScores, ExtractedEntities
from collabiq_llm.offline import lexicon
from collabiq_llm.offline.cues import display_name, is_person_address
from collabiq_llm.offline.event_date import find_date
from collabiq_llm.offline.orgs import Parties, find_orgs
from collabiq_llm.offline.rules import (
    Found,
    find_details,
    find_person,
    full_name,
    looks_like_person,
    split_email,
)
from collabiq_llm.providers.base import LLMProvider, ProviderResult
from collabiq_llm.settings import ProviderConfig, Settings, default_config_dir

log = logging.getLogger(__name__)


def _default_companies_path() -> Path:
    try:
        return Settings().companies_path()
    except Exception as exc:  # a broken user config must not take the last resort down
        log.warning("offline provider: settings unreadable (%s); using shipped companies", exc)
        return default_config_dir() / "companies.toml"


def _default_own_org() -> OwnOrg:
    try:
        own = Settings().own_org
    except Exception as exc:  # a broken user config must not take the last resort down
        log.warning("offline provider: settings unreadable (%s); no own organisation", exc)
        return OwnOrg()
    return OwnOrg(tuple(own.names), tuple(own.domains))


def load_directory_or_empty(path: Path) -> CompanyDirectory:
    """The company directory at ``path``; an empty one (with a warning) if the file is missing."""
    try:
        return load_directory(path)
    except OSError as exc:
        log.warning("offline provider: company directory %s unreadable (%s)", path, exc)
        return CompanyDirectory(())


def extract_offline(
    email: EmailInput, directory: CompanyDirectory, own: OwnOrg | None = None
) -> ExtractedEntities:
    """The whole rule pipeline for one email: pure, no I/O (directory and own org passed in)."""
    parts = split_email(email.text, email.quoted_date or email.received_at)
    company_names = {c.name for c in directory.companies} | {
        a for c in directory.companies for a in c.aliases
    }
    own_all = (own or OwnOrg()) | directory.own_org
    correspondents = (
        *(email.sender, *email.recipients, email.quoted_sender, *email.quoted_recipients),
        *(parts.sender, *parts.recipients),
    )
    staff = {display_name(p) for p in correspondents if own_all.owns_address(p)}
    staff |= {token for name in staff for token in name.split()}  # "Ryan" signs for "Ryan Cho"
    # our own staff may be the contact, but anyone else the email names comes first
    person = find_person(parts.body, company_names | staff) or find_person(
        parts.body, company_names
    )
    if person is not None:  # "Best,\nLena" -> "Lena Vogt" (the From line or the signature)
        names = tuple(display_name(p) for p in correspondents if p)
        person = Found(full_name(person.value, parts.body, names), person.confidence, person.start)
    people = {person.value} if person else set()
    for party in correspondents:
        name = display_name(party)  # correspondents are people, never companies
        if is_person_address(party):
            people |= {name, *name.split()}
    parties = (  # a forwarded message is the content: its own writer and addressees
        Parties(parts.sender, parts.recipients)
        if parts.sender
        else Parties(email.quoted_sender, email.quoted_recipients)
        if email.quoted_sender
        else Parties(email.sender, email.recipients)
    )
    startup, partner = find_orgs(parts.subject, parts.body, directory, people, parties, own)
    if person is not None and person.value in {f.value for f in (startup, partner) if f}:
        person = None
    if person is None:  # nobody named in the text: the writer, unless one of our own staff
        writer = parts.sender or email.quoted_sender or email.sender
        name = display_name(writer)
        if looks_like_person(name) and not own_all.owns_address(writer):
            person = Found(name, 0.5)
    org_names = [f.value for f in (startup, partner) if f]
    org_names += [alias for c in directory.companies if c.name in org_names for alias in c.aliases]
    details = find_details(parts.subject, parts.body, org_names)
    date, date_conf = find_date(parts)
    return ExtractedEntities(
        person_in_charge=person.value if person else None,
        startup_name=startup.value if startup else None,
        partner_org=partner.value if partner else None,
        details=details.value,
        date=date,
        confidence=ConfidenceScores(
            person=person.confidence if person else 0.0,
            startup=startup.confidence if startup else 0.0,
            partner=partner.confidence if partner else 0.0,
            details=details.confidence,
            date=date_conf,
        ),
        email_id=email.email_id,
    )


class OfflineProvider(LLMProvider):
    """Rule-based extraction; loads the company directory itself (cached per file)."""

    def __init__(
        self,
        config: ProviderConfig,
        *,
        api_key: SecretStr | None = None,
        company_context: str | None = None,
        companies_path: Path | None = None,
        own_org: OwnOrg | None = None,
    ) -> None:
        super().__init__(config, api_key=api_key, company_context=company_context)
        self._companies_path = companies_path
        self._own_org = own_org

    @property
    def directory(self) -> CompanyDirectory:
        if self._companies_path is None:
            self._companies_path = _default_companies_path()
        return load_directory_or_empty(self._companies_path)

    @property
    def own_org(self) -> OwnOrg:
        if self._own_org is None:
            self._own_org = _default_own_org()
        return self._own_org

    def prepare(self) -> None:
        """Load the Korean analyser (~2 s, once per process) before the timed call."""
        lexicon.load()

    async def aextract(self, email: EmailInput) -> ProviderResult:
        started = time.perf_counter()
        entities = extract_offline(email, self.directory, self.own_org)
        return ProviderResult(
            provider=self.provider_name,
            model=self.model_id,
            entities=entities,
            input_tokens=0,
            output_tokens=0,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )
