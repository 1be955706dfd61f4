"""Ingestion as one call: parsed events in, enriched and durably stored (or dropped) out."""

from __future__ import annotations

from collections.abc import Sequence

from postmetric.ingest import pipeline
from postmetric.ingest.event import Event
from postmetric.ingest.pipeline import Enrichers
from postmetric.ingest.writer import EventWriter


class Ingestion:
    def __init__(self, enrichers: Enrichers, writer: EventWriter) -> None:
        self.enrichers = enrichers
        self.writer = writer

    async def ingest(self, events: Sequence[Event]) -> Sequence[Event]:
        """Run each event through the pipeline; return once the kept ones are committed.

        Dropped events come back with `drop_reason` set. Raises the writer's
        `QueueFull` / `StoreUnavailable`, in which case nothing was acknowledged.
        """
        kept = [e for e in events if pipeline.run(e, self.enrichers).drop_reason is None]
        await self.writer.write(kept)
        return events
