"""Storage of consensus agreement patterns (the data provider reliability is learned from).

Kept apart from the breaker/health/cost documents: a rolling window (the newest
``keep`` records) that only consensus writes and only consensus and ``status`` read.
JSON backend: ``reliability.json`` through the same lock + atomic-replace helper as
every state file. Redis backend: one capped list, ``collabiq:<ns>:agreements``,
appended and trimmed in one MULTI. Losing a record (Redis down) only slows learning,
so nothing is spooled.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from collabiq_llm.state.api import AgreementRecord

JSON_FILE = "reliability.json"
REDIS_KEY = "agreements"


class AgreementDoc(BaseModel):
    """The JSON file: the window, oldest first."""

    records: list[AgreementRecord] = Field(default_factory=list)


def appended(doc: AgreementDoc, record: AgreementRecord, keep: int) -> None:
    """Add ``record`` and drop the oldest beyond ``keep`` (in place, for ``JsonFile.update``)."""
    doc.records.append(record)
    if len(doc.records) > keep:
        del doc.records[: len(doc.records) - keep]


def redis_append(client: Any, key: str, record: AgreementRecord, keep: int) -> None:
    """RPUSH + LTRIM in one transaction: the list never holds more than ``keep``."""
    pipe = client.pipeline(transaction=True)
    pipe.rpush(key, record.model_dump_json())
    pipe.ltrim(key, -max(1, keep), -1)
    pipe.execute()


def redis_read(client: Any, key: str) -> list[AgreementRecord]:
    """The list, oldest first; unreadable entries are skipped."""
    out = []
    for raw in client.lrange(key, 0, -1):
        try:
            out.append(AgreementRecord.model_validate_json(raw))
        except ValidationError:
            continue
    return out
