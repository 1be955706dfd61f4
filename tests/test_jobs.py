"""Background jobs run once across nodes: a lease in the metadata database picks the node, on SQLite and
PostgreSQL. Each "node" is a JobRunner with its own engine and holder name, sharing one database."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from factories import Clock
from postmetric.jobs import Job, JobLeases, JobRunner, default_holder
from postmetric.store.database import create_engine, session_factory
from postmetric.store.metadata import JobLease

START = 1_780_000_000.0
LEASE = 300.0
HOUR = 3600.0


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def node_sessions(metadata_url, metadata_engine) -> Iterator:
    """`node_sessions()`: a session factory on an engine of its own, as a separate node would have."""
    engines = []

    def make():
        engines.append(create_engine(metadata_url))
        return session_factory(engines[-1])

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def node(node_sessions, clock):
    """`node(holder, *jobs)`: a JobRunner for one node."""

    def make(holder: str, *jobs: Job, lease_seconds: float = LEASE) -> JobRunner:
        return JobRunner(node_sessions(), jobs, holder=holder, clock=clock, lease_seconds=lease_seconds)

    return make


def counting_job(name: str = "count", interval: float = HOUR) -> tuple[Job, list[datetime]]:
    runs: list[datetime] = []

    def run(now: datetime) -> int:
        runs.append(now)
        return len(runs)

    return Job(name=name, interval_seconds=interval, run=run), runs


def lease_row(runner: JobRunner, name: str) -> JobLease:
    with runner.leases._Session() as session:
        return session.scalars(select(JobLease).where(JobLease.name == name)).one()


def at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


async def test_two_nodes_run_a_due_job_once_then_again_after_its_interval(node, clock):
    job, runs = counting_job()
    a, b = node("a", job), node("b", job)
    assert sorted(await a.run_due() + await b.run_due()) == ["count"]
    assert runs == [at(START)]

    clock.advance(HOUR - 1)
    assert await a.run_due() == [] and await b.run_due() == []
    clock.advance(1)
    assert sorted(await b.run_due() + await a.run_due()) == ["count"]
    assert len(runs) == 2


async def test_two_nodes_ticking_together_run_a_due_job_once(node, clock):
    job, runs = counting_job()
    a, b = node("a", job), node("b", job)
    for _ in range(3):
        results = await asyncio.gather(a.run_due(), b.run_due())
        assert sorted(results[0] + results[1]) == ["count"]
        clock.advance(HOUR)
    assert len(runs) == 3


async def test_a_completed_run_is_recorded_and_its_lease_released(node, clock):
    job, _ = counting_job()
    a = node("a", job)
    await a.run_due()
    row = lease_row(a, "count")
    assert (row.holder, row.expires_at, row.last_finished_at) == ("a", at(START), at(START))
    # Released: another node may claim it straight away, once the job is due.
    clock.advance(HOUR)
    assert await node("b", job).run_due() == ["count"]


async def test_a_crashed_nodes_lease_is_taken_over_only_once_it_expires(node, clock):
    job, runs = counting_job()
    crashed, survivor = node("crashed", job), node("survivor", job)
    # The crashed node claimed the job and died before running or releasing it.
    assert crashed.leases.claim("count", now=at(START), due_before=at(START - HOUR))

    clock.advance(LEASE - 1)
    assert await survivor.run_due() == []
    clock.advance(1)
    assert await survivor.run_due() == ["count"]
    assert runs == [at(START + LEASE)]
    row = lease_row(survivor, "count")
    assert (row.holder, row.last_finished_at) == ("survivor", at(START + LEASE))


async def test_a_failing_job_is_retried_next_tick_and_does_not_block_the_others(node, clock):
    attempts: list[datetime] = []

    def flaky(now: datetime) -> str:
        attempts.append(now)
        if len(attempts) == 1:
            raise RuntimeError("event store unreachable")
        return "ok"

    flaky_job = Job(name="flaky", interval_seconds=HOUR, run=flaky)
    steady_job, steady_runs = counting_job("steady")
    a = node("a", flaky_job, steady_job)
    b = node("b", flaky_job, steady_job)

    assert await a.run_due() == ["steady"]
    row = lease_row(a, "flaky")
    assert row.last_finished_at is None and row.expires_at == at(START)  # released, run not recorded

    clock.advance(TICK := 60)
    assert await b.run_due() == ["flaky"]  # another node retries; the steady job is not due
    assert attempts == [at(START), at(START + TICK)]
    assert len(steady_runs) == 1


async def test_a_node_does_not_start_a_job_it_is_still_running(node, clock):
    started, release = threading.Event(), threading.Event()

    def slow(now: datetime) -> None:
        started.set()
        release.wait(5)

    a = node("a", Job(name="slow", interval_seconds=0, run=slow))
    first = asyncio.create_task(a.run_due())
    await asyncio.to_thread(started.wait, 5)
    assert await a.run_due() == []
    release.set()
    assert await first == ["slow"]


async def test_a_run_longer_than_the_lease_keeps_it_by_renewing(node, clock):
    lease = 0.3  # renewed every 0.1 s of real time
    other = node("b", lease_seconds=lease)
    seen: dict[str, bool] = {}

    def long_run(now: datetime) -> None:
        clock.advance(10 * lease)  # the lease as claimed has run out
        deadline = time.monotonic() + 5
        while lease_row(other, "long").expires_at <= at(clock()) and time.monotonic() < deadline:
            time.sleep(0.02)
        seen["renewed"] = lease_row(other, "long").expires_at > at(clock())
        seen["taken"] = other.leases.claim("long", now=at(clock()), due_before=at(clock()))

    a = node("a", Job(name="long", interval_seconds=HOUR, run=long_run), lease_seconds=lease)
    assert await a.run_due() == ["long"]
    assert seen == {"renewed": True, "taken": False}


async def test_run_forever_survives_failing_jobs_and_stops_when_cancelled(node, clock):
    failures, successes = [], []

    def failing(now: datetime) -> None:
        failures.append(now)
        raise ValueError("always")

    def working(now: datetime) -> None:
        successes.append(now)

    runner = node("a", Job("failing", 0, failing), Job("working", 0, working))
    task = asyncio.create_task(runner.run_forever(tick_seconds=0))
    for _ in range(500):
        if len(failures) >= 3 and len(successes) >= 3:
            break
        await asyncio.sleep(0.01)
    assert len(failures) >= 3 and len(successes) >= 3
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("first_claim", [True, False], ids=["row-missing", "row-exists"])
def test_of_nodes_claiming_together_exactly_one_wins(node_sessions, first_claim):
    """On PostgreSQL the claims really overlap: concurrent INSERTs of a missing row, or UPDATEs of one row."""
    now = at(START)
    Session = node_sessions()
    if not first_claim:  # a run completed an hour ago
        earlier = JobLeases(Session, holder="earlier", lease_seconds=LEASE)
        assert earlier.claim("race", now=now - timedelta(hours=1), due_before=now - timedelta(hours=2))
        assert earlier.finish("race", now=now - timedelta(hours=1))
    claimants = 8
    barrier = threading.Barrier(claimants)
    results: list[bool] = []

    def claim(i: int) -> None:
        leases = JobLeases(Session, holder=f"node{i}", lease_seconds=LEASE)
        barrier.wait(5)
        results.append(leases.claim("race", now=now, due_before=now - timedelta(minutes=30)))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(claimants)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [False] * (claimants - 1) + [True]


def test_a_lease_is_renewed_finished_and_released_only_by_its_holder(node_sessions):
    now = at(START)
    Session = node_sessions()
    mine = JobLeases(Session, holder="mine", lease_seconds=LEASE)
    theirs = JobLeases(Session, holder="theirs", lease_seconds=LEASE)
    assert mine.claim("job", now=now, due_before=now)
    assert not theirs.renew("job", now=now) and not theirs.finish("job", now=now)
    assert not theirs.release("job", now=now)
    assert mine.renew("job", now=now + timedelta(seconds=100))
    assert not theirs.claim("job", now=now + timedelta(seconds=LEASE), due_before=now)  # renewed: still held
    assert mine.release("job", now=now + timedelta(seconds=200))
    assert theirs.claim("job", now=now + timedelta(seconds=200), due_before=now)


def test_the_default_holder_names_the_host_and_process_and_differs_per_runner():
    first, second = default_holder(), default_holder()
    assert first.startswith(f"{socket.gethostname()}:{os.getpid()}:")
    assert first != second
