"""A local X API v2 for the tests: `GET /2/tweets/search/recent` as X documents it, on 127.0.0.1.

The posts come from a recorded search answer (`fixtures/x/search_recent*.json`: `data`,
`includes.users`, `meta`); the server answers with the posts newer than `since_id`, newest first,
`max_results` at most (and at most `page_limit`, as X may send fewer than asked), a `next_token`
while more remain, and the rate-limit headers `x-rate-limit-limit/remaining/reset`. A bearer
token outside `tokens` gets X's 401; `script` queues whole answers (429, 403, 5xx, …) from the
recorded error bodies, sent before the next searches. Every request is kept in `requests`.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "x"
SEARCH_PATH = "/2/tweets/search/recent"
RATE_LIMIT = 60  # Basic access: 60 searches per 15 minutes per app


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchRequest:
    params: dict[str, str]
    authorization: str | None


class XApi:
    """What the server knows and was asked; tests change it between syncs."""

    def __init__(self, corpus: str = "search_recent.json") -> None:
        self.tokens: set[str] = set()
        self.page_limit = 100
        self.reset_epoch = 0  # x-rate-limit-reset on every answer, set from the test's clock
        self.remaining = RATE_LIMIT
        self.script: deque[Answer] = deque()
        self.partial_errors: dict[str, Any] | None = None  # a 200's `errors`, its users left out of includes
        self.requests: list[SearchRequest] = []
        self._pages: dict[str, tuple[str | None, str, int]] = {}  # next_token → (since_id, query, offset)
        self._lock = threading.Lock()
        self.load(corpus)

    def load(self, corpus: str) -> None:
        """The posts X holds from now on: those of a recorded search answer."""
        recorded = fixture(corpus)
        self.posts = sorted(recorded["data"], key=lambda post: int(post["id"]), reverse=True)
        self.users = {user["id"]: user for user in recorded["includes"]["users"]}

    def answer(self, path: str, query: str, authorization: str | None) -> Answer:
        with self._lock:
            params = {name: values[-1] for name, values in parse_qs(query, keep_blank_values=True).items()}
            if path != SEARCH_PATH:
                return Answer(404, {"title": "Not Found Error", "detail": f"Could not find {path}",
                                    "type": "https://api.twitter.com/2/problems/resource-not-found"})
            self.requests.append(SearchRequest(params, authorization))
            self.remaining = max(self.remaining - 1, 0)
            if self.script:
                return self.script.popleft()
            if authorization is None or authorization.removeprefix("Bearer ") not in self.tokens:
                return Answer(401, fixture("error_401.json"))
            return self._search(params)

    def _search(self, params: dict[str, str]) -> Answer:
        query, since_id = params.get("query", ""), params.get("since_id")
        problem = _invalid(params)
        if problem:
            return problem
        offset = 0
        if "next_token" in params:
            page = self._pages.get(params["next_token"])
            if page is None or page[:2] != (since_id, query):
                return _invalid_request("next_token", params["next_token"], "The `next_token` query parameter "
                                        "value is invalid for this request")
            offset = page[2]
        matching = [post for post in self.posts if since_id is None or int(post["id"]) > int(since_id)]
        size = min(int(params.get("max_results", "10")), self.page_limit)
        data = matching[offset:offset + size]
        body: dict[str, Any] = {"meta": {"result_count": len(data)}}
        if data:
            authors = {post["author_id"] for post in data}
            left_out = {self.partial_errors["resource_id"]} if self.partial_errors else set()
            body["data"] = data
            body["includes"] = {"users": [user for user_id, user in self.users.items()
                                          if user_id in authors - left_out]}
            body["meta"].update(newest_id=data[0]["id"], oldest_id=data[-1]["id"])
            if self.partial_errors:
                body["errors"] = [self.partial_errors]
        if offset + size < len(matching):
            token = secrets.token_hex(8)
            self._pages[token] = (since_id, query, offset + size)
            body["meta"]["next_token"] = token
        return Answer(200, body)


def _invalid(params: dict[str, str]) -> Answer | None:
    query = params.get("query", "")
    if not 1 <= len(query) <= 512:
        return _invalid_request("query", query, "The `query` query parameter can not be empty or longer than 512")
    if query.count("(") != query.count(")"):
        return Answer(400, fixture("error_400_query.json"))
    max_results = params.get("max_results", "10")
    if not max_results.isdigit() or not 10 <= int(max_results) <= 100:
        return _invalid_request("max_results", max_results,
                                f"The `max_results` query parameter value [{max_results}] is not between 10 and 100")
    return None


def _invalid_request(parameter: str, value: str, message: str) -> Answer:
    return Answer(400, {"errors": [{"parameters": {parameter: [value]}, "message": message}],
                        "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
                        "type": "https://api.twitter.com/2/problems/invalid-request"})


class _Handler(BaseHTTPRequestHandler):
    api: XApi

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = urlsplit(self.path)
        answer = self.api.answer(parts.path, parts.query, self.headers.get("Authorization"))
        payload = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("content-length", str(len(payload)))
        headers = {"x-rate-limit-limit": str(RATE_LIMIT), "x-rate-limit-remaining": str(self.api.remaining),
                   "x-rate-limit-reset": str(self.api.reset_epoch), **answer.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass


@contextmanager
def x_api_server(api: XApi) -> Iterator[str]:
    """Serves `api` on a free port until the block ends; yields its base URL (for `POSTMETRIC_X_API_URL`)."""
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
