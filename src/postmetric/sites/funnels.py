"""Funnel definitions of a site (SPEC §7): create, list, replace and delete them, validated.

A funnel is a name (1–120 characters) and 2–8 ordered steps `{"type": "page" | "goal", "match",
"label"}`: a page step's match is a path pattern (`/pricing`, `/blog/*`: `*` for any characters,
matched on the whole path, as for page goals and excluded paths), a goal step's is a goal name as
the tracker sends it. The label is an optional display name (null, or 1–120 characters).

Secondary responsibilities:
1. `funnel_steps`: a stored funnel's steps as the results engine (stats/funnels.py) takes them.
2. `find_funnel`: a funnel by id whatever its site, for the results route, which then checks
   that the caller may read that site.

Blocking (SQLAlchemy sessions): call from a worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from postmetric.errors import NotFound, ValidationError
from postmetric.sites.goals import GOAL_NAME
from postmetric.sites.patterns import parse_page_pattern
from postmetric.store.metadata import Funnel, Site

STEP_TYPES = ("page", "goal")
MIN_STEPS, MAX_STEPS = 2, 8


@dataclass(frozen=True, slots=True)
class FunnelStep:
    type: str  # "page" | "goal"
    match: str  # a path pattern with `*`, or a goal name
    label: str | None = None


FIELDS = ("name", "steps")
STEP_FIELDS = ("type", "match", "label")
MAX_NAME = 120
MAX_LABEL = 120


def list_funnels(session: Session, site: Site) -> list[Funnel]:
    return list(session.scalars(select(Funnel).where(Funnel.site_id == site.id).order_by(Funnel.id)))


def get_funnel(session: Session, site: Site, funnel_id: int) -> Funnel:
    funnel = session.get(Funnel, funnel_id)
    if funnel is None or funnel.site_id != site.id:  # another site's funnel is as unknown as a missing one
        raise NotFound("funnel", funnel_id)
    return funnel


def find_funnel(session: Session, funnel_id: int) -> Funnel | None:
    return session.get(Funnel, funnel_id)


def create_funnel(session: Session, site: Site, body: dict[str, Any]) -> Funnel:
    """A new funnel from `body` (`name`, `steps`)."""
    funnel = Funnel(site_id=site.id, **_parsed(body))
    session.add(funnel)
    session.flush()
    return funnel


def replace_funnel(session: Session, site: Site, funnel_id: int, body: dict[str, Any]) -> Funnel:
    """The funnel redefined by `body`, which says all of it, as for `create_funnel`."""
    funnel = get_funnel(session, site, funnel_id)
    for name, value in _parsed(body).items():
        setattr(funnel, name, value)
    session.flush()
    return funnel


def delete_funnel(session: Session, site: Site, funnel_id: int) -> None:
    session.delete(get_funnel(session, site, funnel_id))
    session.flush()


def funnel_steps(funnel: Funnel) -> tuple[FunnelStep, ...]:
    return tuple(FunnelStep(step["type"], step["match"], step.get("label")) for step in funnel.steps)


def _parsed(body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValidationError(unknown[0], f"is not a funnel field; known fields: {', '.join(FIELDS)}")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("name", f"is required: 1 to {MAX_NAME} characters")
    if len(name.strip()) > MAX_NAME:
        raise ValidationError("name", f"is longer than {MAX_NAME} characters")
    steps = body.get("steps")
    if not isinstance(steps, list):
        raise ValidationError("steps", f"is required: a list of {MIN_STEPS} to {MAX_STEPS} steps "
                                       "like {\"type\": \"page\", \"match\": \"/pricing\"}")
    if not MIN_STEPS <= len(steps) <= MAX_STEPS:
        raise ValidationError("steps", f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps, not {len(steps)}")
    return {"name": name.strip(), "steps": [_step(step, f"steps[{i}]") for i, step in enumerate(steps)]}


def _step(step: object, path: str) -> dict[str, Any]:
    if not isinstance(step, dict):
        raise ValidationError(path, "must be an object {\"type\": \"page\" | \"goal\", \"match\": …, \"label\"?: …}")
    unknown = sorted(set(step) - set(STEP_FIELDS))
    if unknown:
        raise ValidationError(f"{path}.{unknown[0]}", f"is not a step field; known fields: {', '.join(STEP_FIELDS)}")
    kind = step.get("type")
    if kind not in STEP_TYPES:
        raise ValidationError(f"{path}.type", f"must be \"page\" (a path pattern) or \"goal\" (a goal name), not {kind!r}")
    match = step.get("match")
    if not isinstance(match, str) or not match.strip():
        raise ValidationError(f"{path}.match", "is required: a path pattern like /pricing or /blog/*, or a goal name")
    match = match.strip()
    if kind == "page":
        match = parse_page_pattern(match, field=f"{path}.match", example="/pricing or /blog/*")
    if kind == "goal" and not GOAL_NAME.fullmatch(match):
        raise ValidationError(f"{path}.match", f"{match!r} is not a goal name: 1 to 64 characters of "
                                               "a-z, 0-9, _, - and :, as the tracker sends them")
    label = step.get("label")
    if isinstance(label, str) and not label.strip():
        label = None
    if label is not None and (not isinstance(label, str) or len(label.strip()) > MAX_LABEL):
        raise ValidationError(f"{path}.label", f"must be null or 1 to {MAX_LABEL} characters")
    return {"type": kind, "match": match, "label": label.strip() if label is not None else None}
