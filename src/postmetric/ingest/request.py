"""Parse a raw ingestion request into an `Event`, once, at the edge.

Everything downstream trusts the `Event`; every problem with the input becomes an
`IngestError` (an `Invalid` domain error: web answers it 400) whose message names the field
and says what is wrong.

Three wire formats: the tracker's (`parse_event`, `parse_query_params`), the server-side
events API's (the same plus backfill fields, `parse_server_events`), and the server-side
goals and identify calls (`parse_server_goal`, `parse_server_identify`), which name a
visitor instead of a page: their events have no `href` and take the page of the
visitor's visit (`pipeline.PAGELESS_STEPS`).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from ipaddress import ip_address
from typing import Annotated, Any

import msgspec

from postmetric.errors import Invalid
from postmetric.ingest.event import Event, EventType
from postmetric.sites.goals import GOAL_NAME
from postmetric.time_window import window_problem

MAX_BODY_BYTES = 16 * 1024
MAX_BATCH_EVENTS = 1_000
MAX_TITLE_CHARS = 500
MAX_REFERRER_CHARS = 2_048
MAX_PROPS = 20
MAX_PROP_VALUE_CHARS = 255
MAX_USER_AGENT_CHARS = 1_024
# Backfills may be old (down to time_window.EARLIEST), but a clock running ahead on a client
# must not create future data.
MAX_FUTURE_SECONDS = 300

TYPE_ALIASES = {"custom": EventType.GOAL, "external_link": EventType.OUTBOUND} | {
    t.value: t for t in EventType
}
PROP_KEY = re.compile(r"^[a-z0-9_-]{1,64}$")
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")

Str64 = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Str255 = Annotated[str, msgspec.Meta(max_length=255)]
Dimension = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
PropValue = str | int | float | bool | None


class IngestError(Invalid):
    """An event we refuse; `message` is shown to the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Viewport(msgspec.Struct):
    width: Dimension
    height: Dimension


class Payload(msgspec.Struct):
    """The wire format of SPEC §4. Fields a browser may not set are read only by `server_side`."""

    websiteId: Str64
    type: Str64
    href: Annotated[str, msgspec.Meta(min_length=1, max_length=2_048)]
    name: str | None = None
    referrer: str | None = None
    title: str | None = None
    visitorId: str | None = None
    sessionId: str | None = None
    viewport: Viewport | None = None
    props: dict[str, PropValue] | None = None
    scrollDepth: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None
    engagedMs: Annotated[int, msgspec.Meta(ge=0, le=86_400_000)] | None = None
    adClickIds: Annotated[dict[str, Str255], msgspec.Meta(max_length=16)] | None = None
    # Server-side API only (SPEC §4): backfills and proxied tracking.
    timestamp: datetime | None = None
    ip: str | None = None
    userAgent: Annotated[str, msgspec.Meta(max_length=MAX_USER_AGENT_CHARS)] | None = None


_decode_one = msgspec.json.Decoder(Payload).decode
_decode_many = msgspec.json.Decoder(Payload | list[Payload]).decode


def parse_event(body: bytes, *, ip: str, user_agent: str, now: float) -> Event:
    """A browser's `POST /api/events` body. Server-only fields are ignored."""
    return _to_event(_decode(_decode_one, body), ip=ip, user_agent=user_agent, now=now, server_side=False)


def parse_server_events(body: bytes, *, ip: str, user_agent: str, now: float) -> list[Event]:
    """`POST /api/v1/events`: one event or an array of up to MAX_BATCH_EVENTS."""
    decoded = _decode(_decode_many, body)
    payloads = decoded if isinstance(decoded, list) else [decoded]
    if not payloads:
        raise IngestError("the array of events is empty")
    if len(payloads) > MAX_BATCH_EVENTS:
        raise IngestError(f"at most {MAX_BATCH_EVENTS} events per request, got {len(payloads)}")
    events = []
    for index, payload in enumerate(payloads):
        try:
            events.append(_to_event(payload, ip=ip, user_agent=user_agent, now=now, server_side=True))
        except IngestError as exc:
            if len(payloads) == 1:
                raise
            raise IngestError(f"event [{index}]: {exc.message}") from None
    return events


def parse_query_params(params: Mapping[str, str], *, ip: str, user_agent: str, now: float) -> Event:
    """`GET /api/events.gif`: the same fields as query parameters; `props` and `adClickIds` as JSON."""
    raw: dict[str, object] = {k: v for k, v in params.items() if k in Payload.__struct_fields__}
    for key in ("props", "adClickIds", "viewport"):
        if key in raw:
            try:
                raw[key] = msgspec.json.decode(str(raw[key]))
            except msgspec.DecodeError:
                raise IngestError(f"{key} must be a JSON object") from None
    try:
        payload = msgspec.convert(raw, Payload, strict=False)
    except msgspec.ValidationError as exc:
        raise IngestError(f"invalid event: {exc}") from None
    return _to_event(payload, ip=ip, user_agent=user_agent, now=now, server_side=False)


def _decode(decode, body: bytes):
    try:
        return decode(body)
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: check it first
        raise IngestError(f"invalid event: {exc}") from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise IngestError(f"malformed JSON: {_decode_problem(exc)}") from None


def _decode_problem(error: Exception) -> str:
    """What msgspec found wrong, in words: it raises UnicodeDecodeError for a string that is not
    UTF-8 and RecursionError past its nesting limit, not DecodeError."""
    if isinstance(error, UnicodeDecodeError):
        return "a string is not valid UTF-8"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error)


def _to_event(p: Payload, *, ip: str, user_agent: str, now: float, server_side: bool) -> Event:
    if "\x00" in p.websiteId:  # the site lookup may reach PostgreSQL, which refuses NUL in text
        raise IngestError("websiteId: must not contain a NUL character")
    event_type = TYPE_ALIASES.get(p.type)
    if event_type is None:
        raise IngestError(f"type must be one of {', '.join(TYPE_ALIASES)}; got {p.type!r}")
    if event_type is EventType.GOAL:
        if p.name is None:
            raise IngestError("name is required for goal events")
        if not GOAL_NAME.fullmatch(p.name):
            raise IngestError("name must be 1-64 characters of lowercase a-z, 0-9, '_', '-' or ':'")
        name = p.name
    else:
        name = event_type.value
    if not p.href.startswith(("http://", "https://")):
        raise IngestError("href must be an absolute http(s) URL")

    timestamp = now
    check_bots = True
    if server_side:
        if p.timestamp is not None:
            timestamp = _checked_timestamp(p.timestamp, now)
        if p.ip is not None:
            try:
                ip = str(ip_address(p.ip))
            except ValueError:
                raise IngestError(f"ip is not an IP address: {p.ip!r}") from None
        if p.userAgent is not None:
            user_agent = p.userAgent
        else:
            check_bots = False

    return Event(
        site_public_id=p.websiteId,
        type=event_type,
        name=name,
        href=p.href,
        timestamp=timestamp,
        ip=ip,
        user_agent=user_agent,
        referrer=(p.referrer or "")[:MAX_REFERRER_CHARS],
        title=(p.title or "")[:MAX_TITLE_CHARS],
        client_visitor_id=_uuid_field("visitorId", p.visitorId),
        client_session_id=_uuid_field("sessionId", p.sessionId),
        viewport_width=p.viewport.width if p.viewport else None,
        viewport_height=p.viewport.height if p.viewport else None,
        props=_props(p.props) if p.props else {},
        scroll_depth=p.scrollDepth,
        engaged_ms=p.engagedMs,
        click_ids=dict(p.adClickIds) if p.adClickIds else {},
        check_bots=check_bots,
    )


# Fields of `POST /api/v1/goals` and `/api/v1/identify` that are not identify props.
VISITOR_FIELDS = ("visitor_id", "datafast_visitor_id")  # DataFast's name is accepted too
CONTEXT_FIELDS = ("timestamp", "ip", "userAgent", "user_agent")
GOAL_FIELDS = (*VISITOR_FIELDS, "name", "props", "metadata", *CONTEXT_FIELDS)


def parse_server_goal(body: bytes, *, site_public_id: str, now: float) -> Event:
    """`POST /api/v1/goals`: `{visitor_id | datafast_visitor_id, name, props | metadata, timestamp?,
    ip?, userAgent?}` → a goal event of that visitor, without a page."""
    raw = _json_object(body)
    unknown = sorted(set(raw) - set(GOAL_FIELDS))
    if unknown:
        raise IngestError(f"{unknown[0]}: unknown field; accepted: {', '.join(GOAL_FIELDS)}")
    name = raw.get("name")
    if name is None:
        raise IngestError("name: is required (the goal's name)")
    if not isinstance(name, str) or not GOAL_NAME.fullmatch(name):
        raise IngestError(f"name: {name!r} must be 1-64 characters of lowercase a-z, 0-9, '_', '-' or ':'")
    if "props" in raw and "metadata" in raw:
        raise IngestError("metadata: send props or metadata (the same thing), not both")
    field = "metadata" if "metadata" in raw else "props"
    props = raw.get(field)
    if props is not None and not isinstance(props, dict):
        raise IngestError(f"{field}: must be a flat JSON object")
    return _pageless_event(raw, EventType.GOAL, name, _flat_props(field, props or {}),
                           site_public_id=site_public_id, now=now)


def parse_server_identify(body: bytes, *, site_public_id: str, now: float) -> Event:
    """`POST /api/v1/identify`: `{visitor_id, user_id?, email?, name?, ...}` (user_id or email
    required) → an identify event whose props are every field but the visitor id and the
    context fields, as the script's `postmetric('identify', {...})` stores them."""
    raw = _json_object(body)
    props = {key: value for key, value in raw.items()
             if key not in VISITOR_FIELDS and key not in CONTEXT_FIELDS and value not in (None, "")}
    if "user_id" not in props and "email" not in props:
        raise IngestError("user_id: user_id or email is required (who the visitor is)")
    if "email" in props:
        email = props["email"]
        if not isinstance(email, str) or "@" not in email:
            raise IngestError(f"email: {email!r} is not an email address")
        props["email"] = email.strip()
    return _pageless_event(raw, EventType.IDENTIFY, EventType.IDENTIFY.value, _flat_props(None, props),
                           site_public_id=site_public_id, now=now)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        raw = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise IngestError(f"body: is not valid JSON ({_decode_problem(exc)})") from None
    if not isinstance(raw, dict):
        raise IngestError("body: must be a JSON object")
    return raw


def _pageless_event(raw: dict[str, Any], event_type: EventType, name: str, props: dict[str, str], *,
                    site_public_id: str, now: float) -> Event:
    """The event of a server-side goal or identify call. Geo and device come from `ip` and
    `userAgent` when sent, else they stay unknown: the request's own address and user agent
    are the backend's, not the visitor's. The site key vouches for it: no bot check."""
    timestamp = now
    if raw.get("timestamp") is not None:
        timestamp = _checked_timestamp(_timestamp_field(raw["timestamp"]), now)
    ip = raw.get("ip")
    if ip is not None:
        try:
            ip = str(ip_address(ip if isinstance(ip, str) else ""))
        except ValueError:
            raise IngestError(f"ip: {ip!r} is not an IP address") from None
    user_agent = raw.get("userAgent", raw.get("user_agent"))
    if user_agent is not None and (not isinstance(user_agent, str) or len(user_agent) > MAX_USER_AGENT_CHARS):
        raise IngestError(f"userAgent: must be a string of at most {MAX_USER_AGENT_CHARS} characters")
    return Event(
        site_public_id=site_public_id,
        type=event_type,
        name=name,
        href="",
        timestamp=timestamp,
        ip=ip or "",
        user_agent=user_agent or "",
        client_visitor_id=_visitor_field(raw),
        props=props,
        check_bots=False,
    )


def _visitor_field(raw: dict[str, Any]) -> str:
    ids = set()
    for field in VISITOR_FIELDS:
        value = raw.get(field)
        if value in (None, ""):
            continue
        try:
            ids.add(str(uuid.UUID(value if isinstance(value, str) else "")))
        except ValueError:
            raise IngestError(f"{field}: {value!r} is not a visitor id (a UUID)") from None
    if not ids:
        raise IngestError("visitor_id: is required (the visitor's _pm_vid cookie, or postmetric.getVisitorId())")
    if len(ids) > 1:
        raise IngestError("datafast_visitor_id: differs from visitor_id; send one of them")
    return ids.pop()


def _timestamp_field(value: object) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise IngestError(f"timestamp: {value!r} is not an ISO 8601 date and time like 2026-11-20T10:00:00Z")


def _flat_props(field: str | None, props: dict[str, Any]) -> dict[str, str]:
    """Props of a server-side call, within the limits of event props. `field` names the object
    holding them in error messages; None when they are the body's own fields (identify)."""
    if len(props) > MAX_PROPS:
        raise IngestError(f"{field or 'body'}: at most {MAX_PROPS} props, got {len(props)}")
    clean: dict[str, str] = {}
    for key, value in props.items():
        name = f"{field}.{key}" if field else key
        if not PROP_KEY.fullmatch(key):
            raise IngestError(f"{name}: prop names must match ^[a-z0-9_-]{{1,64}}$")
        if value is None:
            continue
        if not isinstance(value, str | int | float | bool):
            raise IngestError(f"{name}: must be a string, number, boolean or null, not a nested value")
        text = _prop_text(value)
        if len(text) > MAX_PROP_VALUE_CHARS:
            raise IngestError(f"{name}: is longer than {MAX_PROP_VALUE_CHARS} characters")
        clean[key] = text
    return clean


def _uuid_field(field: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not UUID_TEXT.match(value):
        raise IngestError(f"{field} must be a UUID") from None
    return value.lower()


def _props(props: dict[str, PropValue]) -> dict[str, str]:
    if len(props) > MAX_PROPS:
        raise IngestError(f"props may have at most {MAX_PROPS} keys, got {len(props)}")
    clean: dict[str, str] = {}
    for key, value in props.items():
        if not PROP_KEY.fullmatch(key):
            raise IngestError(f"props key {key!r} must match ^[a-z0-9_-]{{1,64}}$")
        if value is None:
            continue
        text = _prop_text(value)
        if len(text) > MAX_PROP_VALUE_CHARS:
            raise IngestError(f"props.{key} is longer than {MAX_PROP_VALUE_CHARS} characters")
        clean[key] = text
    return clean


def _prop_text(value: str | int | float | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _checked_timestamp(value: datetime, now: float) -> float:
    """A client's `timestamp` as Unix seconds, refused outside the time window."""
    if value.tzinfo is None:  # an ISO timestamp without offset is taken as UTC
        value = value.replace(tzinfo=timezone.utc)
    problem = window_problem(value, now=datetime.fromtimestamp(now, timezone.utc),
                             ahead=timedelta(seconds=MAX_FUTURE_SECONDS))
    if problem is not None:
        raise IngestError(f"timestamp: {problem}")
    return value.timestamp()
