"""What an annotation did to the site's numbers, and the Mentions list: shapes, examples and paths."""

from __future__ import annotations

from postmetric.stats.impact import MAX_MENTION_POSTS
from postmetric.web.contract.accounts import Shape
from postmetric.web.contract.annotations import Annotation
from postmetric.web.contract.common import E400, E401, E403, E404, READERS, SITE_PARAM, path_integer
from postmetric.web.contract.operation import Answer, Operation, error

MENTIONS_DEFAULT_LIMIT, MENTIONS_MAX_LIMIT = 10, 100


class Window(Shape):
    start: str
    end: str
    visitors: int
    conversion_rate: float | None
    revenue: float | int


class AroundImpact(Shape, tag_field="window", tag="7d"):
    """A commit's or a note's: the 7 days before its time against the 7 days after (clipped to now: `partial`)."""

    annotation_id: int
    before: Window
    after: Window
    currency: str
    partial: bool


class PostImpact(Shape, tag_field="window", tag="24h"):
    """A post's on X: visitors and revenue that came from X in the 24 hours after it (clipped to now: `partial`)."""

    annotation_id: int
    start: str
    end: str
    visitors: int
    revenue: float | int
    currency: str
    partial: bool


class Mention(Shape):
    annotation: Annotation
    visitors: int
    revenue: float | int


class Mentions(Shape):
    mentions: list[Mention]
    currency: str


AROUND = {"annotation_id": 2, "window": "7d",
          "before": {"start": "2026-11-21T16:04:51Z", "end": "2026-11-28T16:04:51Z", "visitors": 1204,
                     "conversion_rate": 2.1, "revenue": 1480.0},
          "after": {"start": "2026-11-28T16:04:51Z", "end": "2026-12-05T16:04:51Z", "visitors": 1391,
                    "conversion_rate": 2.6, "revenue": 1935.5},
          "currency": "USD", "partial": False}
POST = {"annotation_id": 3, "window": "24h", "start": "2026-12-02T08:15:00Z", "end": "2026-12-03T08:15:00Z",
        "visitors": 312, "revenue": 147.0, "currency": "USD", "partial": False}
POST_ANNOTATION = {"id": 3, "kind": "x", "time": "2026-12-02T08:15:00Z",
                   "text": "Switched our analytics to @postmetric: one script, no cookie banner",
                   "url": "https://x.com/ada/status/1863512345678901248", "external_id": "1863512345678901248",
                   "author": "Ada Lovelace",
                   "details": {"post_id": "1863512345678901248", "username": "ada", "name": "Ada Lovelace",
                               "likes": 214, "reposts": 31, "replies": 12, "impressions": 18250},
                   "created_at": "2026-12-02T08:20:00Z", "updated_at": "2026-12-02T08:20:00Z"}
MENTIONS = {"mentions": [{"annotation": POST_ANNOTATION, "visitors": 312, "revenue": 147.0}], "currency": "USD"}

A = "Annotations"
ANNOTATION_ID = path_integer("annotation_id")
_IMPACT = (
    "For a `github` annotation or a `note`: visitors, conversion rate and revenue in the 7 days before its time "
    "and in the 7 days after it (`AroundImpact`). For an `x` post: the visitors and revenue that came from X "
    "(referrers t.co, x.com, twitter.com; utm_source x or twitter) in the 24 hours after it (`PostImpact`). A "
    "window still running is cut at now and `partial` is true. Revenue counts the payments made in the window "
    "under last-touch attribution."
)
_MENTIONS = (
    f"The site's posts on X in the range (the {MAX_MENTION_POSTS} newest at most), each with the visitors and "
    "revenue that came from X in the 24 hours after it, counted per hour from the start of the post's hour (a "
    "visitor back from X in another hour counts again; the post's own impact is exact). Most visitors first."
)

OPERATIONS = [
    Operation("get", "/api/v1/sites/{id}/annotations/{annotation_id}/impact", "annotation_impact", A,
              "What happened around an annotation: its card's numbers (members and share links).",
              {200: Answer("OK", AroundImpact | PostImpact, AROUND), **E401, **E403,
               404: error("The site or the annotation does not exist, or is not the caller's to read.",
                          "annotation 7 not found")},
              security=READERS, parameters=[SITE_PARAM, ANNOTATION_ID], description=_IMPACT),
    Operation("get", "/api/v1/sites/{id}/mentions", "list_mentions", A,
              "The posts on X that sent the most visitors (members and share links).",
              {200: Answer("OK", Mentions, MENTIONS), **E400, **E401, **E403, **E404},
              security=READERS, description=_MENTIONS, parameters=[
                  SITE_PARAM,
                  {"name": "from", "in": "query", "required": False, "schema": {"type": "string"},
                   "description": "Only posts at or after this ISO 8601 date and time (with its offset)."},
                  {"name": "to", "in": "query", "required": False, "schema": {"type": "string"},
                   "description": "Only posts before this ISO 8601 date and time (with its offset)."},
                  {"name": "limit", "in": "query", "required": False,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MENTIONS_MAX_LIMIT,
                              "default": MENTIONS_DEFAULT_LIMIT},
                   "description": "At most this many posts."},
              ]),
]
