"""A site's annotations (dated notes on its chart): shapes, examples and paths."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from postmetric.sites.annotations import DEFAULT_LIMIT, MAX_LIMIT, MAX_TEXT, MAX_URL
from postmetric.web.contract.accounts import Shape
from postmetric.web.contract.common import COOKIE, E400, E401, E403, E404, NO_CONTENT, READERS, SITE_PARAM, path_integer
from postmetric.web.contract.operation import Answer, Operation, error


class Annotation(Shape):
    """A dated note: written by hand (`note`), or synced from a post on X (`x`) or a GitHub commit (`github`)."""

    id: int
    kind: Literal["note", "x", "github"]
    time: str
    text: str
    url: str | None
    # Synced ones: the provider's id (commit sha, "release:<id>", post id), who wrote it and the provider's
    # fields (github: type, sha, additions, deletions, tag; x: post_id, username, name, likes, reposts, replies,
    # quotes, impressions); null on notes.
    external_id: str | None
    author: str | None
    details: dict[str, Any] | None
    created_at: str
    updated_at: str


class Annotations(Shape):
    annotations: list[Annotation]


class AnnotationBody(msgspec.Struct):
    time: str
    text: str
    url: str | None = None
    kind: Literal["note"] = "note"


NOTE = {"id": 1, "kind": "note", "time": "2026-12-01T09:30:00Z", "text": "Launched on Product Hunt",
        "url": "https://www.producthunt.com/posts/postmetric", "external_id": None, "author": None,
        "details": None, "created_at": "2026-12-01T10:02:11Z",
        "updated_at": "2026-12-01T10:02:11Z"}
COMMIT = {"id": 2, "kind": "github", "time": "2026-11-28T16:04:51Z", "text": "Fix the signup form on Safari",
          "url": "https://github.com/example/app/commit/4f2a9c1e0b7d", "external_id": "4f2a9c1e0b7d",
          "author": "octocat", "details": {"type": "commit", "sha": "4f2a9c1e0b7d", "additions": 12, "deletions": 3},
          "created_at": "2026-11-28T16:10:00Z",
          "updated_at": "2026-11-28T16:10:00Z"}
NOTE_BODY = {"time": "2026-12-01T09:30:00Z", "text": "Launched on Product Hunt",
             "url": "https://www.producthunt.com/posts/postmetric"}
ANNOTATION_NOT_FOUND = {404: error("The site or the annotation does not exist, the annotation is another site's, "
                                   "or the caller is not a member of the site (the same answer).",
                                   "annotation 7 not found")}
_RULES = (
    f"`time`: an ISO 8601 date and time with its offset (stored in UTC), from 2000 to 2099. `text`: 1 to {MAX_TEXT} "
    f"characters (trimmed). `url`: optional, an http or https URL of at most {MAX_URL} characters. `kind`: only "
    "\"note\" is written through the API; \"x\" and \"github\" annotations come from their integrations' sync."
)

A = "Annotations"
TAGS = [{"name": A}]
ANNOTATION_ID = path_integer("annotation_id")

OPERATIONS = [
    Operation("get", "/api/v1/sites/{id}/annotations", "list_annotations", A,
              "The site's annotations, newest first (any member, and the site's share link).",
              {200: Answer("OK", Annotations, {"annotations": [NOTE, COMMIT]}), **E400, **E401, **E403, **E404},
              security=READERS, parameters=[
                  SITE_PARAM,
                  {"name": "from", "in": "query", "required": False, "schema": {"type": "string"},
                   "description": "Only annotations at or after this ISO 8601 date and time (with its offset)."},
                  {"name": "to", "in": "query", "required": False, "schema": {"type": "string"},
                   "description": "Only annotations before this ISO 8601 date and time (with its offset)."},
                  {"name": "limit", "in": "query", "required": False,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
                   "description": "At most this many, the newest."},
              ]),
    Operation("post", "/api/v1/sites/{id}/annotations", "create_annotation", A,
              "Write a note on the site's chart (owners and admins).",
              {201: Answer("OK", Annotation, NOTE), **E400, **E401, **E403, **E404},
              security=COOKIE, parameters=[SITE_PARAM], description=_RULES, body=AnnotationBody,
              body_example=NOTE_BODY),
    Operation("put", "/api/v1/sites/{id}/annotations/{annotation_id}", "replace_annotation", A,
              "Rewrite a note with a whole body, as for writing one (owners and admins).",
              {200: Answer("OK", Annotation, NOTE), **E400, **E401, **E403, **ANNOTATION_NOT_FOUND},
              security=COOKIE, parameters=[SITE_PARAM, ANNOTATION_ID], description=_RULES, body=AnnotationBody,
              body_example=NOTE_BODY),
    Operation("delete", "/api/v1/sites/{id}/annotations/{annotation_id}", "delete_annotation", A,
              "Delete an annotation of any kind (owners and admins).",
              {204: NO_CONTENT, **E401, **E403, **ANNOTATION_NOT_FOUND}, security=COOKIE,
              parameters=[SITE_PARAM, ANNOTATION_ID]),
]
