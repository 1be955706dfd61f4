"""Durable acknowledgement with group commit, then bulk loading into the event store.

1. `write()` queues events; one journal thread takes everything that queued up while its
   previous append ran, appends it to the journal as one fsynced record, and then wakes
   every waiting caller at once. Under load, groups grow by themselves; when idle, a
   lone event is written at once.
2. A loader thread moves journaled rows into the event store every `load_interval`
   seconds (sooner past `load_batch` rows), each load one transaction carrying the
   journal position, so stats lag ingestion by about a second and a crash loses nothing.
3. Memory is bounded: past `max_pending` queued-or-unloaded events, `write()` raises
   `QueueFull` at once (the HTTP layer answers 503 with Retry-After).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Sequence

from postmetric.ingest.event import Event
from postmetric.store.events import EventStore, encode_rows, event_row
from postmetric.store.journal import EventJournal, Position

log = logging.getLogger(__name__)


class QueueFull(Exception):
    """More events are waiting than the queue holds."""


class StoreUnavailable(Exception):
    """The journal failed to write; the events were not kept."""


class EventWriter:
    def __init__(
        self,
        store: EventStore,
        journal: EventJournal,
        *,
        max_pending: int,
        max_group: int = 5_000,
        load_interval: float = 1.0,
        load_batch: int = 20_000,
    ) -> None:
        self._store = store
        self._journal = journal
        self._max_pending = max_pending
        self._max_group = max_group
        self._load_interval = load_interval
        self._load_batch = load_batch
        self._lock = threading.Condition()  # guards everything below; wakes the journal thread
        self._loadable = threading.Condition(self._lock)  # wakes the loader
        self._load_lock = threading.Lock()  # one load at a time (loader thread or flush)
        self._queue: deque[tuple[Sequence[Event], asyncio.Future[None]]] = deque()
        self._queued = 0
        # Journal records not yet in the store: (CSV rows, row count, journal position after
        # them), oldest first.
        self._unloaded: deque[tuple[bytes, int, Position]] = deque()
        self._unloaded_rows = 0
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._journal_thread = threading.Thread(target=self._journal_loop, name="event-journal", daemon=True)
        self._loader_thread = threading.Thread(target=self._loader_loop, name="event-loader", daemon=True)
        self.groups_written = 0
        self.events_written = 0

    def recover(self) -> int:
        """Load what an earlier process journaled but did not load; return how many rows."""
        for payload, position in self._journal.replay(self._store.journal_position()):
            # Lines, not rows (a quoted value may hold a newline): only used to size loads.
            self._unloaded.append((payload, payload.count(b"\n"), position))
        self._unloaded_rows = sum(rows for _, rows, _ in self._unloaded)
        recovered = self._unloaded_rows
        self._load()
        self._journal.open_for_append()
        self._journal.discard_before(self._journal.append_position)
        return recovered

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._journal_thread.start()
        self._loader_thread.start()

    @property
    def pending(self) -> int:
        """Events queued for the journal or journaled but not yet in the store."""
        return self._queued + self._unloaded_rows

    async def write(self, events: Sequence[Event]) -> None:
        """Return once `events` are durable; raise QueueFull or StoreUnavailable."""
        if not events:
            return
        future = self._loop.create_future()
        with self._lock:
            if self._closing:
                raise StoreUnavailable("the server is shutting down")
            if self.pending + len(events) > self._max_pending:
                raise QueueFull(f"{self.pending} events are waiting to be written")
            self._queue.append((events, future))
            self._queued += len(events)
            self._lock.notify()
        await future

    def flush(self) -> None:
        """Load every journaled row into the store now."""
        self._load()

    def close(self) -> None:
        """Journal what is queued, load everything, stop both threads."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        if self._journal_thread.is_alive():
            self._journal_thread.join()
        with self._lock:
            self._loadable.notify_all()
        if self._loader_thread.is_alive():
            self._loader_thread.join()
        self._load()
        self._journal.close()

    def _journal_loop(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._lock.wait()
                if not self._queue:
                    return
                group, count = self._take_group()
            payload = encode_rows(event_row(event) for events, _ in group for event in events)
            error: BaseException | None = None
            try:
                position = self._journal.append(payload)
            except Exception as exc:  # the callers get a 503; the log says why
                log.exception("journaling %d events failed", count)
                error = exc
            with self._lock:
                self._queued -= count
                if error is None:
                    self._unloaded.append((payload, count, position))
                    self._unloaded_rows += count
                    self.groups_written += 1
                    self.events_written += count
                    if self._unloaded_rows >= self._load_batch:
                        self._loadable.notify()
            self._loop.call_soon_threadsafe(_settle, [future for _, future in group], error)

    def _take_group(self) -> tuple[list[tuple[Sequence[Event], asyncio.Future[None]]], int]:
        group, count = [], 0
        while self._queue and (not group or count + len(self._queue[0][0]) <= self._max_group):
            item = self._queue.popleft()
            group.append(item)
            count += len(item[0])
        return group, count

    def _loader_loop(self) -> None:
        while True:
            with self._lock:
                self._loadable.wait_for(
                    lambda: self._closing or self._unloaded_rows >= self._load_batch, timeout=self._load_interval
                )
                closing = self._closing
            try:
                self._load()
            except Exception:  # rows stay in memory and in the journal; the next round retries
                log.exception("loading events into the store failed; retrying")
            if closing:
                return

    def _load(self) -> None:
        """Move journaled records into the store, up to `load_batch` rows per transaction."""
        with self._load_lock:
            while True:
                with self._lock:
                    taken, count = [], 0
                    for payload, rows, position in self._unloaded:
                        if taken and count + rows > self._load_batch:
                            break
                        taken.append(payload)
                        count += rows
                        end = position
                if not taken:
                    return
                # Rows and the position after them commit together: a replay never loads twice.
                self._store.load(b"".join(taken), journal_position=end)
                with self._lock:
                    for _ in taken:
                        self._unloaded.popleft()
                    self._unloaded_rows -= count
                self._journal.discard_before(end)


def _settle(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    for future in futures:
        if future.done():  # the caller went away; its events are kept all the same
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(StoreUnavailable(str(error)))
