"""GitHub (issue 17): a repository's commits and releases, synced as annotations on the site's chart.

Through GitHub's REST API (version 2022-11-28) at `settings.github_api_url`:
1. the branch: the configured one, or the repository's default branch (`GET /repos/{owner}/{repo}`);
2. commits: `GET /repos/{owner}/{repo}/commits?sha=&since=&per_page=100`, newest first, following the
   `Link` header's rel="next"; the first sync goes back `FIRST_SYNC_DAYS`, later ones from the newest
   commit's committer date (inclusive, so the commits at that second are remembered and skipped);
3. line counts: the list has none, so `GET /repos/{owner}/{repo}/commits/{sha}` for the newest new
   commits only (`STATS_PER_RUN`), best effort; the others keep `additions`/`deletions` null;
4. releases: `GET /repos/{owner}/{repo}/releases`, newest first, published ones; paging stops at a
   page reaching one published before the newest already seen.

Every first page is conditional (`If-None-Match` with the ETag stored for that exact URL): a 304
costs no rate limit when authenticated, and changes nothing. Pages per run are bounded, so a busy
repository's first sync keeps its newest commits. Answers become the sync errors of `sync.py`:
401 → TokenRejected, 403/429 with `x-ratelimit-remaining: 0` → RateLimited until `x-ratelimit-reset`
(`retry-after` honoured), other 403 → AccessDenied, 404 → SourceNotFound, 5xx, network and
unreadable bodies → UpstreamFailed. Nothing here sleeps: `run.now` is compared with the reset.

Limitation, said in the README: a commit pushed later than newer ones but carrying an older
committer date (a fast-forward push of old local work) falls before the cursor and is not seen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session, sessionmaker

from postmetric.errors import ValidationError
from postmetric.integrations.sync import (
    AccessDenied,
    Connection,
    RateLimited,
    SourceNotFound,
    SyncError,
    SyncResult,
    SyncRun,
    SyncedAnnotation,
    TokenRejected,
    UpstreamFailed,
    delete_annotations,
    read_body,
)
from postmetric.store.events import EventStore

KIND = "github"
API_VERSION = "2022-11-28"
FIRST_SYNC_DAYS = 90
PER_PAGE = 100
MAX_COMMIT_PAGES = 10  # 1,000 commits a run: the newest, when there are more
MAX_RELEASE_PAGES = 3
# Each is one request; unauthenticated clients get 60 an hour per IP, tokens 5,000.
STATS_PER_RUN, STATS_PER_RUN_WITHOUT_TOKEN = 30, 5
MAX_TEXT = 500
# GitHub asks for a minute's pause after a secondary rate limit that names no time.
SECONDARY_LIMIT_PAUSE = timedelta(minutes=1)

# Owner: GitHub's login rules (letters, digits, single inner hyphens, ≤ 39); name: ≤ 100 of [A-Za-z0-9._-].
_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
# A branch name as git allows it (git check-ref-format), minus what cannot be typed in a form.
_BRANCH = re.compile(r"(?!/)(?!.*(?:\.\.|//|@\{|/\.|\.lock/|\.lock$|/$|\.$))[^\x00-\x20\x7f~^:?*\[\\]{1,255}")
_TOKEN = re.compile(r"[\x21-\x7e]{1,255}")
_SHA = re.compile(r"[0-9a-f]{40}")
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="([^"]*)"')
CONFIG_FIELDS = ("repository", "branch", "token")


def parse_repository(value: Any) -> str:
    """`owner/name`, also taken from a pasted `https://github.com/owner/name(.git)` URL."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("repository", "is required, as owner/name (e.g. octocat/Hello-World)")
    text = value.strip()
    if text.startswith(("https://", "http://")):
        text = urlsplit(text).path
    text = text.strip("/").removesuffix(".git")
    owner, _, name = text.partition("/")
    if not _OWNER.fullmatch(owner) or not _NAME.fullmatch(name) or name in (".", ".."):
        raise ValidationError("repository", f"must be owner/name (e.g. octocat/Hello-World), not {value[:100]!r}")
    return f"{owner}/{name}"


def parse_branch(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not _BRANCH.fullmatch(value.strip()):
        raise ValidationError("branch", f"is not a branch name git allows: {str(value)[:100]!r}")
    return value.strip()


class GitHubProvider:
    """The `Provider` of kind "github" (see `sync.py`)."""

    kind = KIND
    label = "GitHub"
    # Three requests a sync when nothing changed (repository, commits, releases): four an hour is
    # 12 of an unauthenticated client's 60; with a token 304s are free.
    interval_seconds = 15 * 60.0

    def parse_config(self, body: dict[str, Any], *, site_domain: str, current: dict | None) -> Connection:
        unknown = sorted(set(body) - set(CONFIG_FIELDS))
        if unknown:
            raise ValidationError(unknown[0], f"is not a GitHub setting (they are: {', '.join(CONFIG_FIELDS)})")
        config = {"repository": parse_repository(body.get("repository")), "branch": parse_branch(body.get("branch"))}
        token = body.get("token")
        if token is None or (isinstance(token, str) and not token.strip()):
            return Connection(config=config, token=None, keep_token=current is not None)
        if not isinstance(token, str) or not _TOKEN.fullmatch(token.strip()):
            raise ValidationError("token", "must be a GitHub token (printable characters, no spaces, at most 255)")
        return Connection(config=config, token=token.strip(), keep_token=False)

    def sync(self, run: SyncRun) -> SyncResult:
        return _Sync(run).sync()

    def delete_data(self, Session: sessionmaker[Session], events: EventStore, site_id: int) -> None:
        delete_annotations(Session, site_id, KIND)


class _Page:
    def __init__(self, body: Any, next_url: str | None) -> None:
        self.body, self.next_url = body, next_url


class _Sync:
    """One sync of one repository: requests, paging, conditional requests, and the new cursor."""

    def __init__(self, run: SyncRun) -> None:
        self.run = run
        self.repository: str = run.config["repository"]
        self.api = run.settings.github_api_url.rstrip("/")
        self.repo_url = f"{self.api}/repos/{self.repository}"
        self.headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
        if run.token:
            self.headers["Authorization"] = f"Bearer {run.token}"
        self.cursor = run.cursor  # emptied by a change of repository or branch (connections.connect)
        self.old_etags: dict[str, str] = self.cursor.get("etags") or {}
        self.etags: dict[str, str] = {}

    def sync(self) -> SyncResult:
        configured_branch = self.run.config.get("branch")
        branch = configured_branch or self._default_branch()
        commits, since, boundary = self._new_commits(branch)
        self._add_line_counts(commits)
        releases, releases_since = self._new_releases()
        new_commits = self.run.save_annotations(commits)
        new_releases = self.run.save_annotations(releases)
        cursor = {
            "default_branch": None if configured_branch else branch,
            "since": since,
            "boundary_shas": boundary,
            "releases_since": releases_since,
            "etags": self.etags,
        }
        return SyncResult(cursor=cursor, summary=_summary(new_commits, new_releases, branch))

    # -- the branch ---------------------------------------------------------------------------------

    def _default_branch(self) -> str:
        page = self._get(self.repo_url, conditional=True)
        if page is None:
            return self.cursor["default_branch"]
        branch = page.body.get("default_branch") if isinstance(page.body, dict) else None
        if not isinstance(branch, str) or not branch:
            raise UpstreamFailed("GitHub's answer for the repository has no default branch")
        return branch

    # -- commits --------------------------------------------------------------------------------------

    def _new_commits(self, branch: str) -> tuple[list[SyncedAnnotation], str, list[str]]:
        """The commits after the cursor; the new cursor's `since` and the shas committed at it."""
        since = self.cursor.get("since") or _iso(self.run.now - timedelta(days=FIRST_SYNC_DAYS))
        seen = set(self.cursor.get("boundary_shas") or ())
        url = str(httpx.URL(f"{self.repo_url}/commits", params={"sha": branch, "since": since, "per_page": PER_PAGE}))
        items = self._list(url, MAX_COMMIT_PAGES)
        commits = [commit for commit in map(self._commit, items or ()) if commit.external_id not in seen]
        if not commits:  # a 304, or only the commits at `since` again
            return [], since, sorted(seen)
        newest = max(commit.time for commit in commits)
        if newest <= _parse_time(since):
            return commits, since, sorted(seen | {commit.external_id for commit in commits})
        return commits, _iso(newest), sorted(commit.external_id for commit in commits if commit.time == newest)

    def _commit(self, item: Any) -> SyncedAnnotation:
        try:
            sha, commit, html_url = item["sha"], item["commit"], item["html_url"]
            message = commit["message"]
            dates = commit.get("committer") or commit.get("author")
            time = _parse_time(dates["date"])
            if not isinstance(sha, str) or not _SHA.fullmatch(sha) or not isinstance(message, str):
                raise ValueError(sha)
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise UpstreamFailed(f"GitHub's commit list has an item this client cannot read ({error!r:.80})") from None
        user = item.get("author")
        author = user.get("login") if isinstance(user, dict) else None
        if not author:
            author = (commit.get("author") or {}).get("name")
        return SyncedAnnotation(
            external_id=sha, time=time, text=_first_line(message) or sha[:7],
            url=html_url if isinstance(html_url, str) else None,
            author=str(author)[:200] if author else None,
            details={"type": "commit", "sha": sha, "additions": None, "deletions": None, "tag": None},
        )

    def _add_line_counts(self, commits: list[SyncedAnnotation]) -> None:
        """Additions and deletions of the newest few, one request each; a failure ends the effort,
        the commits are stored anyway."""
        limit = STATS_PER_RUN if self.run.token else STATS_PER_RUN_WITHOUT_TOKEN
        commits.sort(key=lambda commit: commit.time, reverse=True)
        for index, commit in enumerate(commits[:limit]):
            try:
                page = self._get(f"{self.repo_url}/commits/{commit.external_id}", conditional=False)
                stats = page.body.get("stats") if isinstance(page.body, dict) else None
            except SyncError:
                return
            if isinstance(stats, dict) and all(isinstance(stats.get(key), int) for key in ("additions", "deletions")):
                details = {**commit.details, "additions": stats["additions"], "deletions": stats["deletions"]}
                commits[index] = SyncedAnnotation(commit.external_id, commit.time, commit.text, commit.url,
                                                  commit.author, details)

    # -- releases -------------------------------------------------------------------------------------

    def _new_releases(self) -> tuple[list[SyncedAnnotation], str]:
        """Releases published after the newest seen (on a first sync: in the last 90 days). GitHub
        sorts the list by the release commit's date, nearly the publication order: a release of an
        old commit published now is found when it is on a page read (100 releases a page)."""
        old_since = self.cursor.get("releases_since")
        since = _parse_time(old_since) if old_since else self.run.now - timedelta(days=FIRST_SYNC_DAYS)
        url = str(httpx.URL(f"{self.repo_url}/releases", params={"per_page": PER_PAGE}))
        items = self._list(url, MAX_RELEASE_PAGES, stop=lambda item: _published_at(item) <= since)
        releases = [release for release in map(self._release, items or ()) if release and release.time > since]
        newest = max((release.time for release in releases), default=since)
        return releases, _iso(newest)

    def _release(self, item: Any) -> SyncedAnnotation | None:
        try:
            if item.get("draft") or item.get("published_at") is None:
                return None  # drafts are listed to those with push access only, and are not out yet
            release_id, tag, published = item["id"], item["tag_name"], _parse_time(item["published_at"])
            if not isinstance(release_id, int) or not isinstance(tag, str):
                raise ValueError(release_id)
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise UpstreamFailed(f"GitHub's release list has an item this client cannot read ({error!r:.80})") from None
        name = item.get("name")
        text = f"Release {tag}: {name.strip()}" if isinstance(name, str) and name.strip() and name.strip() != tag \
            else f"Release {tag}"
        user = item.get("author")
        return SyncedAnnotation(
            external_id=f"release:{release_id}", time=published, text=_first_line(text),
            url=item.get("html_url") if isinstance(item.get("html_url"), str) else None,
            author=str(user["login"])[:200] if isinstance(user, dict) and user.get("login") else None,
            details={"type": "release", "sha": None, "additions": None, "deletions": None, "tag": tag[:200]},
        )

    # -- HTTP -----------------------------------------------------------------------------------------

    def _list(self, url: str, max_pages: int, stop: Callable[[Any], bool] | None = None) -> list[Any] | None:
        """The items of `url` and its next pages (at most `max_pages`); None when the first page is
        unchanged (304). Paging also ends after a page with an item for which `stop` is true."""
        items: list[Any] = []
        for number, page in enumerate(self._pages(url)):
            if page is None:
                return None
            if not isinstance(page.body, list):
                raise UpstreamFailed("GitHub answered a list request with something else than a list")
            items.extend(page.body)
            if number + 1 >= max_pages or page.next_url is None:
                break
            if stop is not None and any(map(stop, page.body)):
                break
        return items

    def _pages(self, url: str) -> Iterator[_Page | None]:
        page = self._get(url, conditional=True)
        yield page
        while page is not None and page.next_url is not None:
            page = self._get(page.next_url, conditional=False)
            yield page

    def _get(self, url: str, *, conditional: bool) -> _Page | None:
        """One GET; None for a 304. Raises the sync errors."""
        headers = dict(self.headers)
        if conditional and url in self.old_etags:
            headers["If-None-Match"] = self.old_etags[url]
        try:
            with self.run.http.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    if "If-None-Match" not in headers:
                        raise UpstreamFailed("GitHub answered 304 Not Modified to an unconditional request")
                    self.etags[url] = headers["If-None-Match"]
                    return None
                if response.status_code == 409 and url.split("?", 1)[0].endswith("/commits"):
                    return _Page([], None)  # "Git Repository is empty."
                body = _read_json(response)
        except httpx.HTTPError as error:
            raise UpstreamFailed(f"could not reach GitHub at {self.api}: {error.__class__.__name__}") from None
        if response.status_code != 200:
            raise self._error(response, body)
        etag = response.headers.get("etag")
        if conditional and etag:
            self.etags[url] = etag
        return _Page(body, self._next_url(response))

    def _next_url(self, response: httpx.Response) -> str | None:
        for link, rel in _LINK.findall(response.headers.get("link", "")):
            if rel == "next":
                # The token goes with the request: only to the API host it was given for.
                if urlsplit(link)[:2] != urlsplit(self.api)[:2]:
                    raise UpstreamFailed(f"GitHub's next page is on another host than {self.api}")
                return link
        return None

    def _error(self, response: httpx.Response, body: Any) -> SyncError:
        status = response.status_code
        message = body.get("message") if isinstance(body, dict) and isinstance(body.get("message"), str) else ""
        said = f" (GitHub: {message[:200]})" if message else ""
        if status in (403, 429):
            until = _rate_limit_end(response, self.run.now, secondary=status == 429 or "rate limit" in message)
            if until is not None:
                return RateLimited(f"rate limited by GitHub until {until:%H:%M} UTC", until=until)
        if status == 401:
            return TokenRejected("token rejected by GitHub (bad credentials) — create a new token and reconnect")
        if status == 403:
            return AccessDenied(
                f"GitHub denied access to {self.repository}{said}: a fine-grained token needs access to this "
                "repository with the \"Contents: Read-only\" permission (a classic token, the \"repo\" scope)")
        if status == 404:
            return SourceNotFound(
                f"repository {self.repository} not found, or private and the token cannot see it"
                f"{'' if self.run.token else ' (no token is set)'}{said}")
        if status in (301, 302, 307, 308):
            return SourceNotFound(f"repository {self.repository} was renamed or moved: enter its new owner/name")
        return UpstreamFailed(f"GitHub answered {status}{said}")


def _read_json(response: httpx.Response) -> Any:
    """The body as JSON (at most `read_body`'s bound); None for an empty or unreadable error body."""
    data = read_body(response, provider="GitHub")
    try:
        return json.loads(data) if data else None
    except ValueError:
        if response.status_code == 200:
            raise UpstreamFailed("GitHub's answer is not JSON") from None
        return None


def _rate_limit_end(response: httpx.Response, now: datetime, *, secondary: bool) -> datetime | None:
    """When a rate-limited request may be tried again (GitHub's documented order); None: not a rate limit."""
    headers = response.headers
    retry_after = headers.get("retry-after", "")
    if retry_after.isdigit():
        return now + timedelta(seconds=min(int(retry_after), 24 * 3600))
    if headers.get("x-ratelimit-remaining") == "0":
        reset = headers.get("x-ratelimit-reset", "")
        if reset.isdigit():
            until = datetime.fromtimestamp(min(int(reset), 253_402_300_799), timezone.utc)
            return max(until, now + timedelta(seconds=1))
        return now + SECONDARY_LIMIT_PAUSE
    return now + SECONDARY_LIMIT_PAUSE if secondary else None


def _published_at(item: Any) -> datetime:
    """A release's publication time; a draft's (none yet) counts as now, so it never ends paging."""
    try:
        published = item.get("published_at")
        return _parse_time(published) if published is not None else datetime.max.replace(tzinfo=timezone.utc)
    except (AttributeError, ValueError):
        raise UpstreamFailed("GitHub's release list has an item this client cannot read") from None


def _parse_time(text: Any) -> datetime:
    """GitHub's ISO 8601 timestamps (`2011-04-14T16:00:49Z`), as aware UTC."""
    if not isinstance(text, str):
        raise ValueError(f"not a timestamp: {text!r:.40}")
    time = datetime.fromisoformat(text)
    if time.tzinfo is None:
        raise ValueError(f"timestamp without a zone: {text!r:.40}")
    return time.astimezone(timezone.utc)


def _iso(time: datetime) -> str:
    return time.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _first_line(message: str) -> str:
    line = message.strip().split("\n", 1)[0].strip()
    return line if len(line) <= MAX_TEXT else line[: MAX_TEXT - 1] + "…"


def _summary(commits: int, releases: int, branch: str) -> str:
    parts = [f"{commits} new commit{'' if commits == 1 else 's'} on {branch}"]
    if releases:
        parts.append(f"{releases} new release{'' if releases == 1 else 's'}")
    return ", ".join(parts)


PROVIDER = GitHubProvider()
