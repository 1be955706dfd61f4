"""`transaction`: run blocking metadata work in the thread pool, in one committed session."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from postmetric.web.services import services_of

T = TypeVar("T")


async def transaction(request: Request, work: Callable[[Session], T]) -> T:
    """`work(session)` in a thread; committed if it returns, rolled back if it raises."""
    sessions = services_of(request).metadata

    def run() -> T:
        with sessions() as session:
            result = work(session)
            session.commit()
            return result

    return await run_in_threadpool(run)
