"""A local GitHub REST API (version 2022-11-28) for the integration tests: `http.server` in a thread
on a free port, answering as GitHub's reference documents it.

Served: `GET /repos/{owner}/{repo}` (Get a repository), `…/commits` (List commits: `sha`, `since`,
`per_page`, `page`; newest first), `…/commits/{sha}` (Get a commit, with `stats`), `…/releases`
(List releases; drafts only for a token). Items are the recorded fixtures under
`fixtures/github/` with each test's own sha, message, dates and author. As GitHub does: `Link`
headers (rel="next", "last", "first", "prev") with absolute URLs, a weak `ETag` on every 200 and a
304 to a matching `If-None-Match`, the `x-ratelimit-*` headers on every answer, error bodies
`{"message", "documentation_url", "status"}`: 401 for an unknown token, 404 for a private repository
the token cannot see, 409 for an empty repository.

Knobs: `rate_limit_until(time)` (403 with `x-ratelimit-remaining: 0` and `x-ratelimit-reset`
while the clock is before it), `secondary_retry_after` (403, a secondary limit with `retry-after`), `fail_with(status)` (every request answers it, e.g. 502),
`link_base` (`Link` URLs on another host), `malformed` (lists answered with an object),
`Repository.denied_tokens` (403), `Repository.private`, `hold()` (requests wait for `release`, so
a test can act while a sync is in flight). `requests` records what was asked.
The clock is the test's (unix seconds, as `factories.Clock`): rate-limit resets are compared with
it, nothing sleeps.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "github"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


ERRORS = fixture("errors.json")


def iso(time: datetime) -> str:
    return time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Commit:
    sha: str
    message: str
    time: datetime  # the committer date
    login: str | None
    name: str
    branch: str
    additions: int
    deletions: int


@dataclass
class Release:
    id: int
    tag: str
    name: str | None
    created: datetime
    published: datetime | None  # None: a draft
    login: str


@dataclass
class Repository:
    full_name: str
    default_branch: str = "main"
    private: bool = False
    commits: list[Commit] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    denied_tokens: set[str] = field(default_factory=set)

    def commit(self, message: str, time: datetime, *, login: str | None = "octocat", name: str = "Mona Octocat",
               branch: str | None = None, additions: int = 10, deletions: int = 2) -> str:
        sha = hashlib.sha1(f"{self.full_name}|{message}|{time.isoformat()}|{len(self.commits)}".encode()).hexdigest()
        self.commits.append(Commit(sha, message, time, login, name, branch or self.default_branch, additions,
                                   deletions))
        return sha

    def release(self, tag: str, time: datetime, *, name: str | None = None, draft: bool = False,
                login: str = "octocat") -> int:
        release_id = 1000 + len(self.releases)
        self.releases.append(Release(release_id, tag, name, time, None if draft else time, login))
        return release_id


@dataclass(frozen=True)
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    status: int


class GitHubFake:
    """The fake API's state; `start()` serves it and returns its base URL."""

    LIMIT_WITH_TOKEN, LIMIT_WITHOUT = 5000, 60

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.repositories: dict[str, Repository] = {}
        self.tokens: set[str] = set()
        self.requests: list[Request] = []
        self.failure: int | None = None
        self.rate_limited_until: datetime | None = None
        self.secondary_retry_after: int | None = None
        self.link_base: str | None = None  # another host in `Link` URLs, as a hostile server would send
        self.malformed = False  # lists answered with an object
        self.base_url = ""
        self.arrived, self.release = threading.Event(), threading.Event()
        self.release.set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def repository(self, full_name: str, **options: Any) -> Repository:
        repository = Repository(full_name, **options)
        self.repositories[full_name.lower()] = repository
        return repository

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), timezone.utc)

    def rate_limit_until(self, time: datetime | None) -> None:
        self.rate_limited_until = time

    def fail_with(self, status: int | None) -> None:
        self.failure = status

    def hold(self) -> None:
        """Requests wait, from now on, until `release` is set; `arrived` tells one is waiting."""
        self.arrived.clear()
        self.release.clear()

    def paths(self) -> list[str]:
        with self._lock:
            return [request.path for request in self.requests]

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake.arrived.set()
                fake.release.wait(timeout=30)
                parts = urlsplit(self.path)
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, body, extra = fake.answer(parts.path, dict(parse_qsl(parts.query)), headers)
                with fake._lock:
                    fake.requests.append(Request(parts.path, dict(parse_qsl(parts.query)), headers, status))
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.base_url

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # -- answers --------------------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        token = None
        authorization = headers.get("authorization", "")
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() not in ("bearer", "token") or token not in self.tokens:
                return self._error(401, "bad_credentials", token=None)
        now = self.now()
        if self.rate_limited_until is not None and now < self.rate_limited_until:
            return self._error(403, "rate_limited", token=token, remaining=0, reset=self.rate_limited_until)
        if self.secondary_retry_after is not None:
            status, body, extra = self._error(403, "secondary_rate_limited", token=token)
            return status, body, {**extra, "retry-after": str(self.secondary_retry_after)}
        if self.failure is not None:
            return self.failure, ERRORS["server_error"], self._limit_headers(token)
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/commits(?:/([0-9a-f]{40}))?|/releases)?", path)
        repository = self.repositories.get(f"{match[1]}/{match[2]}".lower()) if match else None
        if repository is None or (repository.private and token is None):
            return self._error(404, "not_found", token=token)
        if token in repository.denied_tokens:
            return self._error(403, "forbidden", token=token)
        if match[3] is None:
            body = fixture("repository.json")
            body.update(full_name=repository.full_name, name=repository.full_name.split("/")[1],
                        default_branch=repository.default_branch, private=repository.private,
                        visibility="private" if repository.private else "public",
                        html_url=f"https://github.com/{repository.full_name}")
            return self._ok(body, path, query, headers, token)
        if match[4] is not None:
            commit = next((commit for commit in repository.commits if commit.sha == match[4]), None)
            if commit is None:
                return self._error(404, "not_found", token=token)
            body = self._commit_item(repository, commit)
            body.update(copy.deepcopy(fixture("commit_stats.json")))
            body["stats"] = {"additions": commit.additions, "deletions": commit.deletions,
                             "total": commit.additions + commit.deletions}
            return self._ok(body, path, query, headers, token)
        if match[3] == "/commits":
            if not repository.commits:
                return self._error(409, "empty_repository", token=token)
            branch = query.get("sha", repository.default_branch)
            on_branch = [commit for commit in repository.commits if commit.branch == branch]
            if not on_branch:
                return 404, {**ERRORS["not_found"], "message": f"No commit found for SHA: {branch}"}, \
                    self._limit_headers(token)
            since = datetime.fromisoformat(query["since"]) if "since" in query else None
            chosen = sorted((commit for commit in on_branch if since is None or commit.time >= since),
                            key=lambda commit: commit.time, reverse=True)
            items = [self._commit_item(repository, commit) for commit in chosen]
            return self._page(items, path, query, headers, token)
        releases = sorted((release for release in repository.releases
                           if release.published is not None or token is not None),
                          key=lambda release: release.created, reverse=True)
        return self._page([self._release_item(repository, release) for release in releases], path, query,
                          headers, token)

    def _page(self, items: list[Any], path: str, query: dict[str, str], headers: dict[str, str],
              token: str | None) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", "30")), 100)
        page = int(query.get("page", "1"))
        last = max(1, -(-len(items) // per_page))
        links = []

        def link(number: int, rel: str) -> str:
            return f'<{self.link_base or self.base_url}{path}?{urlencode({**query, "page": number})}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links.append(link(1, "first"))
        chosen = items[(page - 1) * per_page: page * per_page]
        status, body, extra = self._ok({"items": chosen} if self.malformed else chosen, path, query, headers, token)
        if links and status == 200:
            extra["Link"] = ", ".join(links)
        return status, body, extra

    def _ok(self, body: Any, path: str, query: dict[str, str], headers: dict[str, str],
            token: str | None) -> tuple[int, Any, dict[str, str]]:
        etag = 'W/"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32] + '"'
        extra = {**self._limit_headers(token), "ETag": etag, "Cache-Control": "private, max-age=60, s-maxage=60",
                 "Vary": "Accept, Authorization, Cookie, X-GitHub-OTP", "X-GitHub-Media-Type": "github.v3; format=json"}
        if headers.get("if-none-match") == etag:
            return 304, None, extra
        return 200, body, extra

    def _error(self, status: int, name: str, *, token: str | None, remaining: int | None = None,
               reset: datetime | None = None) -> tuple[int, Any, dict[str, str]]:
        return status, ERRORS[name], self._limit_headers(token, remaining=remaining, reset=reset)

    def _limit_headers(self, token: str | None, *, remaining: int | None = None,
                       reset: datetime | None = None) -> dict[str, str]:
        limit = self.LIMIT_WITH_TOKEN if token else self.LIMIT_WITHOUT
        remaining = limit - 1 if remaining is None else remaining
        reset = reset or self.now() + timedelta(hours=1)
        return {"x-ratelimit-limit": str(limit), "x-ratelimit-remaining": str(remaining),
                "x-ratelimit-reset": str(int(reset.timestamp())), "x-ratelimit-used": str(limit - remaining),
                "x-ratelimit-resource": "core"}

    def _commit_item(self, repository: Repository, commit: Commit) -> dict[str, Any]:
        item = fixture("commit_list_item.json")
        api = f"https://api.github.com/repos/{repository.full_name}"
        item.update(sha=commit.sha, url=f"{api}/commits/{commit.sha}",
                    html_url=f"https://github.com/{repository.full_name}/commit/{commit.sha}",
                    comments_url=f"{api}/commits/{commit.sha}/comments")
        signature = {"name": commit.name, "email": f"{commit.login or 'someone'}@example.com", "date": iso(commit.time)}
        item["commit"].update(message=commit.message, author=dict(signature), committer=dict(signature),
                              url=f"{api}/git/commits/{commit.sha}")
        if commit.login is None:  # an email GitHub cannot tie to an account
            item["author"] = item["committer"] = None
        else:
            for role in ("author", "committer"):
                item[role].update(login=commit.login, html_url=f"https://github.com/{commit.login}")
        return item

    def _release_item(self, repository: Repository, release: Release) -> dict[str, Any]:
        item = fixture("release.json")
        item.update(id=release.id, tag_name=release.tag, name=release.name, draft=release.published is None,
                    created_at=iso(release.created),
                    published_at=iso(release.published) if release.published else None,
                    html_url=f"https://github.com/{repository.full_name}/releases/{release.tag}",
                    url=f"https://api.github.com/repos/{repository.full_name}/releases/{release.id}")
        item["author"].update(login=release.login)
        return item
