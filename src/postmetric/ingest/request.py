"""Parse a raw ingestion request into an `Event`, once, at the edge.

Everything downstream trusts the `Event`; every problem with the input becomes an
`IngestError` whose message names the field and says what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from ipaddress import ip_address
from typing import Annotated

import msgspec

from postmetric.ingest.event import Event, EventType

MAX_BODY_BYTES = 16 * 1024
MAX_BATCH_EVENTS = 1_000
MAX_TITLE_CHARS = 500
MAX_REFERRER_CHARS = 2_048
MAX_PROPS = 20
MAX_PROP_VALUE_CHARS = 255
# Backfills may be old, but a clock running ahead on a client must not create future data.
MAX_FUTURE_SECONDS = 300

TYPE_ALIASES = {"custom": EventType.GOAL, "external_link": EventType.OUTBOUND} | {
    t.value: t for t in EventType
}
GOAL_NAME = re.compile(r"^[a-z0-9_:-]{1,64}$")
PROP_KEY = re.compile(r"^[a-z0-9_-]{1,64}$")
UUID_TEXT = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")

Str64 = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Str255 = Annotated[str, msgspec.Meta(max_length=255)]
Dimension = Annotated[int, msgspec.Meta(ge=0, le=100_000)]
PropValue = str | int | float | bool | None


class IngestError(Exception):
    """A request we refuse; `status` is the HTTP status, `message` is shown to the client."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


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
    userAgent: Annotated[str, msgspec.Meta(max_length=1_024)] | None = None


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
            raise IngestError(f"event [{index}]: {exc.message}", exc.status) from None
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
    except msgspec.DecodeError as exc:
        raise IngestError(f"malformed JSON: {exc}") from None


def _to_event(p: Payload, *, ip: str, user_agent: str, now: float, server_side: bool) -> Event:
    event_type = TYPE_ALIASES.get(p.type)
    if event_type is None:
        raise IngestError(f"type must be one of {', '.join(TYPE_ALIASES)}; got {p.type!r}")
    if event_type is EventType.GOAL:
        if p.name is None:
            raise IngestError("name is required for goal events")
        if not GOAL_NAME.match(p.name):
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
            timestamp = _unix_seconds(p.timestamp)
            if timestamp > now + MAX_FUTURE_SECONDS:
                raise IngestError("timestamp is in the future")
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
        if not PROP_KEY.match(key):
            raise IngestError(f"props key {key!r} must match ^[a-z0-9_-]{{1,64}}$")
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if len(text) > MAX_PROP_VALUE_CHARS:
            raise IngestError(f"props.{key} is longer than {MAX_PROP_VALUE_CHARS} characters")
        clean[key] = text
    return clean


def _unix_seconds(value: datetime) -> float:
    if value.tzinfo is None:  # an ISO timestamp without offset is taken as UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()
