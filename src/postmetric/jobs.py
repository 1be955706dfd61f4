"""Background jobs that run once across app nodes: each run is guarded by a lease in the metadata database.

Every node runs a `JobRunner` over the same jobs. On each tick a node claims the lease of every due job
(one whose last completed run, on any node, is older than its interval); the claim is one conditional
UPDATE, so of several nodes claiming together exactly one wins, and that node runs the job in a worker
thread.

Secondary responsibilities:
1. A job that raises keeps its `last_finished_at`, and its lease is released: the next tick, on any node,
   retries it. One job failing never stops the others or the runner.
2. A run longer than the lease keeps it: the runner renews it every third of the lease while the job
   runs. A node that crashes stops renewing, and another node takes the job over once the lease expires.
3. `default_holder()` names a node: hostname, process id and a random suffix, so that a restarted process
   (same host, maybe the same pid) does not inherit the lease of the one that crashed.

Time comes from the injected clock (seconds since the epoch). Leases compare the clocks of different
nodes, so they assume clocks kept in sync (NTP); a lease of minutes dwarfs the usual skew.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from postmetric.store.metadata import JobLease

log = logging.getLogger(__name__)
Clock = Callable[[], float]

# A crashed node's jobs wait at most this long (plus a tick) before another node takes them over.
LEASE_SECONDS = 300.0
TICK_SECONDS = 60.0


def default_holder() -> str:
    """This node's name in job leases: `<hostname>:<pid>:<random>`."""
    return f"{socket.gethostname()[:200]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True, slots=True)
class Job:
    """A job run every `interval_seconds` on one node. `run(now)` blocks (it runs in a worker thread) and
    returns a summary for the log; `now` is when the run was claimed."""

    name: str
    interval_seconds: float
    run: Callable[[datetime], str | int | None]


class JobLeases:
    """The job_leases rows, as seen by one holder: claim, renew, finish and release.

    Every method is one short transaction whose writes are conditional on the row's current state, so
    nodes calling them together cannot both succeed.
    """

    def __init__(self, Session: sessionmaker[Session], *, holder: str, lease_seconds: float) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, not {lease_seconds}")
        self.holder = holder
        self._Session = Session
        self._lease = timedelta(seconds=lease_seconds)

    def claim(self, name: str, *, now: datetime, due_before: datetime) -> bool:
        """Take the lease of job `name` if the job is due (never completed, or last completed at or
        before `due_before`) and its lease is free (released or expired) or already ours.

        Atomic on SQLite and PostgreSQL: the UPDATE checks both conditions on the row it writes
        (PostgreSQL re-checks them on the committed row when a concurrent claim held it first; SQLite
        runs one writer at a time). A job never claimed has no row yet: the claimants race to INSERT
        it, and the primary key lets one through.
        """
        try:
            with self._Session.begin() as session:
                # The UPDATE comes first: on SQLite it takes the write lock before anything is read.
                claimed = session.execute(
                    update(JobLease)
                    .where(
                        JobLease.name == name,
                        or_(JobLease.holder == self.holder, JobLease.expires_at <= now),
                        or_(JobLease.last_finished_at.is_(None), JobLease.last_finished_at <= due_before),
                    )
                    .values(holder=self.holder, expires_at=now + self._lease)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if claimed:
                    return True
                if session.get(JobLease, name) is not None:
                    return False  # held by another node, or not due
                session.add(JobLease(name=name, holder=self.holder, expires_at=now + self._lease))
                session.flush()
                return True
        except IntegrityError:
            return False  # another node inserted the row first: it holds the lease

    def renew(self, name: str, *, now: datetime) -> bool:
        """Extend our lease to a full lease from `now`; False when another node holds it."""
        return self._update_ours(name, expires_at=now + self._lease)

    def finish(self, name: str, *, now: datetime) -> bool:
        """Record a completed run and release the lease; False when another node holds it (it took
        over an expired lease, and its own run will record the completion)."""
        return self._update_ours(name, expires_at=now, last_finished_at=now)

    def release(self, name: str, *, now: datetime) -> bool:
        """Give the lease up without recording a run (the run failed); False when not ours."""
        return self._update_ours(name, expires_at=now)

    def _update_ours(self, name: str, **values: datetime) -> bool:
        with self._Session.begin() as session:
            return bool(session.execute(
                update(JobLease)
                .where(JobLease.name == name, JobLease.holder == self.holder)
                .values(**values)
                .execution_options(synchronize_session=False)
            ).rowcount)


class JobRunner:
    """Runs this node's share of the jobs: each due job whose lease this node gets, in a worker thread."""

    def __init__(
        self,
        Session: sessionmaker[Session],
        jobs: Iterable[Job],
        *,
        holder: str | None = None,
        clock: Clock = time.time,
        lease_seconds: float = LEASE_SECONDS,
    ) -> None:
        self.jobs = tuple(jobs)
        names = [job.name for job in self.jobs]
        if len(set(names)) != len(names):
            raise ValueError(f"job names must be unique: {names}")
        self.holder = holder or default_holder()
        self.leases = JobLeases(Session, holder=self.holder, lease_seconds=lease_seconds)
        self._clock = clock
        self._renew_every = lease_seconds / 3
        self._running: set[str] = set()  # a slow run is not started again by an overlapping run_due

    async def run_due(self) -> list[str]:
        """Run every due job whose lease this node gets, side by side; the names of those that completed.

        Errors are logged per job: a job that raised (or whose lease could not be read) is left out,
        and the others run anyway.
        """
        completed = await asyncio.gather(*(self._run_if_due(job) for job in self.jobs))
        return [job.name for job, done in zip(self.jobs, completed) if done]

    async def run_forever(self, tick_seconds: float = TICK_SECONDS) -> None:
        """`run_due` every `tick_seconds` until cancelled."""
        while True:
            try:
                await self.run_due()
            except Exception:  # run_due logs per job; this only keeps an unforeseen error from ending the loop
                log.exception("background jobs: tick failed")
            await asyncio.sleep(tick_seconds)

    async def _run_if_due(self, job: Job) -> bool:
        if job.name in self._running:
            return False
        self._running.add(job.name)
        try:
            return await self._claim_and_run(job)
        except Exception:
            log.exception("background job %s: its lease could not be read or written", job.name)
            return False
        finally:
            self._running.discard(job.name)

    async def _claim_and_run(self, job: Job) -> bool:
        started = self._clock()
        now = _utc(started)
        due_before = now - timedelta(seconds=job.interval_seconds)
        if not await asyncio.to_thread(self.leases.claim, job.name, now=now, due_before=due_before):
            return False
        try:
            result = await self._run_holding_lease(job, now)
        except Exception:
            log.exception("background job %s failed; released for the next tick to retry", job.name)
            await asyncio.to_thread(self.leases.release, job.name, now=_utc(self._clock()))
            return False
        # On cancellation (shutdown) the lease is kept: the worker thread may still be running the job,
        # and the lease runs out on its own.
        if not await asyncio.to_thread(self.leases.finish, job.name, now=_utc(self._clock())):
            log.warning("background job %s finished after its lease passed to another node", job.name)
        log.info("background job %s finished in %.1f s: %s", job.name, self._clock() - started, result)
        return True

    async def _run_holding_lease(self, job: Job, now: datetime) -> str | int | None:
        run = asyncio.ensure_future(asyncio.to_thread(job.run, now))
        while True:
            done, _ = await asyncio.wait({run}, timeout=self._renew_every)
            if done:
                return run.result()
            await self._renew(job)

    async def _renew(self, job: Job) -> None:
        try:
            renewed = await asyncio.to_thread(self.leases.renew, job.name, now=_utc(self._clock()))
        except Exception:  # a database blip: the next renewal may succeed before the lease runs out
            log.exception("background job %s: could not renew its lease", job.name)
            return
        if not renewed:
            log.warning("background job %s: its lease passed to another node while it ran", job.name)


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)
