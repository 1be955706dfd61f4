"""Durable acknowledgement with group commit, then bulk loading into the event store.

1. `write()` encodes its events into the open group at once, on the event loop. A
   committer task writes the group to the journal as one record, waits for `fdatasync`
   on a helper thread, and then wakes every caller of that group at once; events arriving
   meanwhile form the next group. Under load, groups grow by themselves; when idle, a lone
   event is written at once. Encoding at arrival keeps the commit itself to a write and an
   fsync, so the loop is rarely left with nothing to do while the disk works.
2. A loader thread moves journaled rows into the event store every `load_interval`
   seconds (sooner past `load_batch` rows), each load one transaction carrying the
   journal position, so stats lag ingestion by about a second and a crash loses nothing.
3. Memory is bounded: past `max_pending` queued-or-unloaded events, `write()` raises
   `QueueFull` at once (the HTTP layer answers 503 with Retry-After).
4. A group the journal cannot write whole and fsync (a full disk, an I/O error) is not
   acknowledged: its callers get `StoreUnavailable` (503), the journal keeps nothing of it,
   and the next group tries again, so ingestion resumes by itself once the disk has room.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from postmetric.ingest.event import Event
from postmetric.ingest.rows import EventEncoder
from postmetric.revenue.linking import load_events
from postmetric.store.events import EventStore
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
        load_interval: float = 1.0,
        load_batch: int = 20_000,
    ) -> None:
        self._store = store
        self._journal = journal
        self._max_pending = max_pending
        self._load_interval = load_interval
        self._load_batch = load_batch
        # Loop-thread state: the open group, encoded, and its callers.
        self._group = EventEncoder()
        self._group_futures: list[asyncio.Future[None]] = []
        self._queued = 0
        self._has_work: asyncio.Event | None = None
        self._committer: asyncio.Task | None = None
        self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal-sync")
        self._closing = False
        # Shared with the loader thread, under `_lock`: journal records not yet in the store,
        # as (CSV rows, row count, journal position after them), oldest first.
        self._lock = threading.Condition()
        self._unloaded: deque[tuple[bytes, int, Position]] = deque()
        self._unloaded_rows = 0
        self._load_lock = threading.Lock()  # one load at a time (loader thread or flush)
        self._loader = threading.Thread(target=self._loader_loop, name="event-loader", daemon=True)
        self._loader_stop = False
        self.groups_written = 0
        self.events_written = 0
        self._failed_groups = 0  # consecutive groups the journal could not write

    def recover(self) -> int:
        """Load what an earlier process journaled but did not load; return how many rows."""
        for payload, position in self._journal.replay(self._store.journal_position()):
            # Lines, not rows (a quoted value may hold a newline): only used to size loads.
            self._unloaded.append((payload, payload.count(b"\n"), position))
        self._unloaded_rows = sum(rows for _, rows, _ in self._unloaded)
        recovered = self._unloaded_rows
        self._load()
        self._journal.open_for_append(after=self._store.journal_position())
        self._journal.discard_before(self._journal.append_position)
        return recovered

    def start(self) -> None:
        self._has_work = asyncio.Event()
        self._committer = asyncio.get_running_loop().create_task(self._commit_loop())
        self._loader.start()

    @property
    def pending(self) -> int:
        """Events queued for the journal or journaled but not yet in the store."""
        return self._queued + self._unloaded_rows

    async def write(self, events: Sequence[Event]) -> None:
        """Return once `events` are durable; raise QueueFull or StoreUnavailable."""
        if not events:
            return
        if self._closing:
            raise StoreUnavailable("the server is shutting down")
        if self.pending + len(events) > self._max_pending:
            raise QueueFull(f"{self.pending} events are waiting to be written")
        for event in events:
            self._group.add_event(event)
        future = asyncio.get_running_loop().create_future()
        self._group_futures.append(future)
        self._queued += len(events)
        self._has_work.set()
        await future

    def flush(self) -> None:
        """Load every journaled row into the store now."""
        self._load()

    def flush_for_erasure(self) -> None:
        """`flush`, and seal the journal's segment: it goes once the next write after it is loaded,
        so an erased person's rows do not stay in the journal on disk."""
        self._load()
        self._journal.seal()

    async def close(self) -> None:
        """Journal what is queued, load everything, stop."""
        self._closing = True
        if self._committer is not None:
            self._has_work.set()
            await self._committer
        with self._lock:
            self._loader_stop = True
            self._lock.notify_all()
        if self._loader.is_alive():
            await asyncio.to_thread(self._loader.join)
        self._syncer.shutdown()
        self._load()
        self._journal.close()

    async def _commit_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._group_futures:
                if self._closing:
                    return
                self._has_work.clear()
                await self._has_work.wait()
                continue
            count, payload, futures = self._group.rows, self._group.take(), self._group_futures
            self._group_futures = []
            error: StoreUnavailable | None = None
            try:
                position = self._journal.write(payload)
                await loop.run_in_executor(self._syncer, self._journal.sync)
            except Exception as exc:  # the callers get a 503; the journal kept nothing of the group
                error = self._journal_failed(exc)
            else:
                self._journal_recovered()
            self._queued -= count
            if error is None:
                self.groups_written += 1
                self.events_written += count
                with self._lock:
                    self._unloaded.append((payload, count, position))
                    self._unloaded_rows += count
                    if self._unloaded_rows >= self._load_batch:
                        self._lock.notify()
            _settle(futures, error)

    def _journal_failed(self, exc: Exception) -> StoreUnavailable:
        """Say once (not once per group) that journaling fails; a full disk would flood the log."""
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if self._failed_groups == 0:
            log.error("journaling events fails (%s in %s); answering 503 until it works again",
                      reason, self._journal.directory, exc_info=not isinstance(exc, OSError))
        self._failed_groups += 1
        return StoreUnavailable(f"{reason}; these events were not stored")  # no server paths to clients

    def _journal_recovered(self) -> None:
        if self._failed_groups:
            log.info("journaling works again, after %d failed groups", self._failed_groups)
            self._failed_groups = 0

    def _loader_loop(self) -> None:
        failing = False  # a failure is logged when it starts, not every round
        while True:
            with self._lock:
                self._lock.wait_for(
                    lambda: self._loader_stop or self._unloaded_rows >= self._load_batch,
                    timeout=self._load_interval,
                )
                stop = self._loader_stop
            try:
                self._load()
            except Exception:  # rows stay in memory and in the journal; the next round retries
                if not failing:
                    log.exception("loading events into the store failed; retrying every %g s", self._load_interval)
                failing = True
            else:
                if failing:
                    log.warning("loading events into the store works again")
                failing = False
            if stop:
                return

    def _load(self) -> None:
        """Move the records journaled so far into the store, up to `load_batch` rows per
        transaction. Records arriving meanwhile wait for the next round: chasing them would
        turn one large load a second into a stream of small ones, each paying DuckDB's
        fixed cost per statement."""
        with self._load_lock:
            with self._lock:
                remaining = len(self._unloaded)
            while remaining:
                with self._lock:
                    taken, count = [], 0
                    for payload, rows, position in self._unloaded:
                        if len(taken) == remaining or (taken and count + rows > self._load_batch):
                            break
                        taken.append(payload)
                        count += rows
                        end = position
                remaining -= len(taken)
                # Rows and the position after them commit together: a replay never loads twice.
                # The payments their identify and payment events link are relinked just after
                # (revenue/linking.py); a crash in between leaves those payments weakly linked.
                load_events(self._store, b"".join(taken), journal_position=end)
                with self._lock:
                    for _ in taken:
                        self._unloaded.popleft()
                    self._unloaded_rows -= count
                self._journal.discard_before(end)


def _settle(futures: list[asyncio.Future[None]], error: StoreUnavailable | None) -> None:
    for future in futures:
        if future.done():  # the caller went away; its events are kept all the same
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(StoreUnavailable(str(error)))
