"""Group commit: events waiting for the store share one write, and a caller hears back
only once its events are durable.

One writer thread takes everything that queued up while the previous write ran, writes
it in one transaction, then wakes every waiting caller at once. Under load, batches grow
by themselves; when idle, a lone event is written at once. The queue is bounded: past
`max_pending` events a caller gets `QueueFull` instead of unbounded memory.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Sequence

from postmetric.ingest.event import Event
from postmetric.store.events import EventStore

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """More events are waiting for the store than the queue holds."""


class StoreUnavailable(Exception):
    """The store failed to write; the events were not kept."""


class EventWriter:
    def __init__(self, store: EventStore, *, max_pending: int, max_batch: int) -> None:
        self._store = store
        self._max_pending = max_pending
        self._max_batch = max_batch
        self._pending: deque[tuple[Sequence[Event], asyncio.Future[None]]] = deque()
        self._pending_events = 0
        self._wakeup = threading.Condition()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="event-writer", daemon=True)
        self.batches_written = 0
        self.events_written = 0

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread.start()

    @property
    def pending(self) -> int:
        return self._pending_events

    async def write(self, events: Sequence[Event]) -> None:
        """Return once `events` are committed; raise QueueFull or StoreUnavailable."""
        if not events:
            return
        future = self._loop.create_future()
        with self._wakeup:
            if self._closing:
                raise StoreUnavailable("the server is shutting down")
            if self._pending_events + len(events) > self._max_pending:
                raise QueueFull(f"{self._pending_events} events are waiting to be written")
            self._pending.append((events, future))
            self._pending_events += len(events)
            self._wakeup.notify()
        await future

    def close(self) -> None:
        """Write what is queued, then stop the thread."""
        with self._wakeup:
            self._closing = True
            self._wakeup.notify()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._pending and not self._closing:
                    self._wakeup.wait()
                if not self._pending:
                    return
                taken, count = self._take_batch()
            events = [event for batch, _ in taken for event in batch]
            error: BaseException | None = None
            try:
                self._store.insert(events)
                self.batches_written += 1
                self.events_written += len(events)
            except Exception as exc:  # the callers get a 503; the log says why
                log.exception("writing %d events failed", len(events))
                error = exc
            with self._wakeup:
                self._pending_events -= count
            self._loop.call_soon_threadsafe(_settle, [future for _, future in taken], error)

    def _take_batch(self) -> tuple[list[tuple[Sequence[Event], asyncio.Future[None]]], int]:
        taken, count = [], 0
        while self._pending and (not taken or count + len(self._pending[0][0]) <= self._max_batch):
            item = self._pending.popleft()
            taken.append(item)
            count += len(item[0])
        return taken, count


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():  # the caller went away
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(StoreUnavailable(str(error)))
