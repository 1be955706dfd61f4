"""A post on X added by its URL, without an X API token: shape, examples and path."""

from __future__ import annotations

import msgspec

from postmetric.integrations.x import MAX_TEXT
from postmetric.web.contract.annotations import Annotation
from postmetric.web.contract.common import COOKIE, E400, E401, E403, E404, SITE_PARAM
from postmetric.web.contract.integrations import I
from postmetric.web.contract.operation import Answer, Operation


class PostBody(msgspec.Struct):
    url: str
    text: str | None = None


POST = {"id": 9, "kind": "x", "time": "2026-12-05T09:01:44Z", "text": "Post by @adabuilds on X",
        "url": "https://x.com/adabuilds/status/2129139143668678663", "external_id": "2129139143668678663",
        "author": "@adabuilds", "details": {"post_id": "2129139143668678663", "username": "adabuilds",
                                            "added_by_hand": True},
        "created_at": "2026-12-08T10:02:11Z", "updated_at": "2026-12-08T10:02:11Z"}
_RULES = (
    "`url`: a post's link on x.com, twitter.com or mobile.twitter.com (`https://x.com/{username}/status/{id}`). "
    "Its time comes from the post id, its author from the URL. `text`: optional, 1 to "
    f"{MAX_TEXT} characters; by default \"Post by @username on X\". A post already there is answered with 200, "
    "unchanged; a later sync of the X integration fills in its text and metrics."
)

OPERATIONS = [
    Operation("post", "/api/v1/sites/{id}/integrations/x/posts", "add_x_post", I,
              "Mark a post on X on the site's chart by its URL, without a token (owners and admins).",
              {201: Answer("Added", Annotation, POST), 200: Answer("Already there", Annotation, POST),
               **E400, **E401, **E403, **E404},
              security=COOKIE, parameters=[SITE_PARAM], description=_RULES, body=PostBody,
              body_example={"url": "https://x.com/adabuilds/status/2129139143668678663"}),
]
