"""Goal definitions of a site (SPEC §7): create, list, replace and delete them, validated.

Custom events are goals by name without any definition; a definition gives an event goal a
display name, or makes a page-visit goal from a path pattern (`/thank-you`, `/blog/*`, with `*`
as in the site's excluded paths: any characters, `/` included, matched on the whole path).

Secondary responsibilities:
1. `GoalDefinition`: the plain snapshot the stats engine compiles `event:goal` from, and
   `goal_definitions`, which loads a site's in id order (the first page goal to match wins).
2. Page patterns are validated and bounded by `sites/patterns.py`, like every page pattern.

Blocking (SQLAlchemy sessions): call from a worker thread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postmetric.errors import AlreadyExists, NotFound, ValidationError
from postmetric.sites.patterns import parse_page_pattern
from postmetric.store.metadata import Goal, Site

# Used with fullmatch: `$` alone lets a trailing newline through. `$`, not Python's `\Z`:
# It is also a JSON Schema pattern in the OpenAPI document.
GOAL_NAME = re.compile(r"^[a-z0-9_:-]{1,64}$")

KINDS = ("event", "page")
FIELDS = ("kind", "event_name", "page_path", "display_name")
MAX_DISPLAY_NAME = 120
# Each goal is a branch of the SQL that names events: a bound keeps queries small.
MAX_GOALS_PER_SITE = 200


@dataclass(frozen=True, slots=True)
class GoalDefinition:
    id: int
    kind: str  # "event" | "page"
    event_name: str | None
    page_path: str | None
    display_name: str


def goal_definitions(session: Session, site_id: int) -> tuple[GoalDefinition, ...]:
    rows = session.scalars(select(Goal).where(Goal.site_id == site_id).order_by(Goal.id))
    return tuple(definition(goal) for goal in rows)


def definition(goal: Goal) -> GoalDefinition:
    return GoalDefinition(goal.id, goal.kind, goal.event_name, goal.page_path, goal.display_name)


def list_goals(session: Session, site: Site) -> list[Goal]:
    return list(session.scalars(select(Goal).where(Goal.site_id == site.id).order_by(Goal.id)))


def create_goal(session: Session, site: Site, body: dict[str, Any]) -> Goal:
    """A new goal from `body` (`kind`, `event_name`?, `page_path`?, `display_name`?)."""
    others = list_goals(session, site)
    if len(others) >= MAX_GOALS_PER_SITE:
        raise ValidationError("goals", f"a site has at most {MAX_GOALS_PER_SITE} goals; delete one first")
    goal = Goal(site_id=site.id, **_parsed(body))
    _ensure_unique(goal, others)
    session.add(goal)
    session.flush()
    return goal


def replace_goal(session: Session, site: Site, goal_id: int, body: dict[str, Any]) -> Goal:
    """The goal redefined by `body`, which says all of it, as for `create_goal`."""
    goal = _goal(session, site, goal_id)
    parsed = _parsed(body)
    _ensure_unique(Goal(**parsed), [other for other in list_goals(session, site) if other.id != goal.id])
    for name, value in parsed.items():
        setattr(goal, name, value)
    session.flush()
    return goal


def delete_goal(session: Session, site: Site, goal_id: int) -> None:
    session.delete(_goal(session, site, goal_id))
    session.flush()


def _goal(session: Session, site: Site, goal_id: int) -> Goal:
    goal = session.get(Goal, goal_id)
    if goal is None or goal.site_id != site.id:  # another site's goal is as unknown as a missing one
        raise NotFound("goal", goal_id)
    return goal


def _parsed(body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValidationError(unknown[0], f"is not a goal field; known fields: {', '.join(FIELDS)}")
    kind = body.get("kind")
    if kind not in KINDS:
        raise ValidationError("kind", f"must be \"event\" (a custom event) or \"page\" (a page visit), not {kind!r}")
    event_name = body.get("event_name")
    page_path = body.get("page_path")
    if kind == "event":
        if page_path is not None:
            raise ValidationError("page_path", "only page goals have one; an event goal names its event_name")
        if not isinstance(event_name, str) or not GOAL_NAME.fullmatch(event_name):
            raise ValidationError("event_name", f"{event_name!r} is not a goal name: 1 to 64 characters of "
                                                "a-z, 0-9, _, - and :, as the tracker sends them")
        default_name = event_name
    else:
        if event_name is not None:
            raise ValidationError("event_name", "only event goals have one; a page goal names its page_path")
        page_path = parse_page_pattern(page_path, field="page_path", example="/thank-you or /blog/*")
        default_name = f"Visit {page_path}"
    display_name = body.get("display_name")
    if display_name is None:
        display_name = default_name
        if len(display_name) > MAX_DISPLAY_NAME:
            raise ValidationError("display_name", f"is needed for so long a path: at most {MAX_DISPLAY_NAME} characters")
    elif not isinstance(display_name, str) or not display_name.strip() or len(display_name.strip()) > MAX_DISPLAY_NAME:
        raise ValidationError("display_name", f"must be 1 to {MAX_DISPLAY_NAME} characters")
    return {"kind": kind, "event_name": event_name, "page_path": page_path, "display_name": display_name.strip()}


def _ensure_unique(goal: Goal, others: list[Goal]) -> None:
    for other in others:
        if other.display_name == goal.display_name:
            raise AlreadyExists("goal", "display_name", goal.display_name)
        if goal.event_name is not None and other.event_name == goal.event_name:
            raise AlreadyExists("goal", "event_name", goal.event_name)
        if goal.page_path is not None and other.page_path == goal.page_path:
            raise AlreadyExists("goal", "page_path", goal.page_path)
