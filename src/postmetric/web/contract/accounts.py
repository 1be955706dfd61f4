"""Accounts, sites, members, keys and sharing: request and response shapes, examples, and paths."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import UNSET, UnsetType

from postmetric.sites.members import ROLES
from postmetric.web.contract.common import (
    BROWSER_ERRORS, COOKIE, E400, E401, E403, E404, E409, E415, E429, E503, NO_CONTENT, SESSION_ONLY, SITE_ERRORS,
    SITE_PARAM, path_integer, path_text,
)
from postmetric.web.contract.operation import Answer, Operation, error

Role = Literal[ROLES]  # type: ignore[valid-type]  # the tuple of sites.members, as an enum
Text = Annotated[str, msgspec.Meta(min_length=1)]


class Shape(msgspec.Struct, forbid_unknown_fields=True):
    """A response shape: the answer holds exactly these fields (so the examples are checked exactly)."""


# -- accounts ------------------------------------------------------------------------------


class User(Shape):
    id: int
    email: str


class SessionInfo(Shape):
    user: User
    csrf_token: str


class SignupPolicy(Shape):
    mode: Literal["open", "invite", "closed"]
    open: bool
    reason: str | None


# Request bodies the routes decode with `web.bodies.decode_body`: `MESSAGES` is what a 400 says
# about a field that is missing or wrong, in the fields' order.


class SignupBody(msgspec.Struct):
    """`invitation`: the token of a live invitation sent to `email`."""

    email: Text
    password: Text
    invitation: str | None = None
    MESSAGES: ClassVar[dict[str, str]] = {"email": "is required", "password": "is required",
                                          "invitation": "must be the token of the invitation link"}


class LoginBody(msgspec.Struct):
    email: Text
    password: Text
    MESSAGES: ClassVar[dict[str, str]] = {"email": "is required", "password": "is required"}


class PasswordResetBody(msgspec.Struct):
    email: Text
    MESSAGES: ClassVar[dict[str, str]] = {"email": "is required"}


class PasswordResetConfirmBody(msgspec.Struct):
    token: str
    password: str


class Credential(Shape):
    """What is shown of an account token or a site key: never the secret, only its prefix."""

    id: int
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None
    revoked_at: str | None


class AccountToken(Credential):
    pass


class NewAccountToken(AccountToken):
    token: str


class AccountTokens(Shape):
    tokens: list[AccountToken]


class NameBody(msgspec.Struct):
    name: str
    MESSAGES: ClassVar[dict[str, str]] = {"name": "is required, e.g. 'CI' or 'laptop'"}


class AcceptedInvitation(Shape):
    site_id: str
    role: Role


USER = {"id": 1, "email": "ada@example.com"}
LOGGED_IN = {"user": USER, "csrf_token": "kq3…"}
TOKEN = {"id": 4, "name": "CI", "prefix": "pmt_Ab3d", "created_at": "2026-11-26T10:00:00Z",
         "last_used_at": "2026-11-27T08:12:00Z", "revoked_at": None}

# -- sites, members, keys, sharing ---------------------------------------------------------


class Site(Shape):
    id: str
    domain: str
    name: str | None
    timezone: str
    currency: str
    allowed_hostnames: list[str]
    excluded_ips: list[str]
    excluded_countries: list[str]
    excluded_hostnames: list[str]
    excluded_paths: list[str]
    cookieless: bool
    retention_days: int | None
    role: Role | None
    created_at: str
    updated_at: str


class Sites(Shape):
    sites: list[Site]


class SiteCreateBody(msgspec.Struct):
    domain: str
    name: str | None = None
    timezone: str | None = None
    currency: str | None = None


class SiteSettingsBody(msgspec.Struct):
    """Any subset of the settings; `retention_days` null keeps visits forever."""

    domain: str | UnsetType = UNSET
    name: str | None | UnsetType = UNSET
    timezone: str | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    allowed_hostnames: list[str] | UnsetType = UNSET
    excluded_ips: list[str] | UnsetType = UNSET
    excluded_countries: list[str] | UnsetType = UNSET
    excluded_hostnames: list[str] | UnsetType = UNSET
    excluded_paths: list[str] | UnsetType = UNSET
    cookieless: bool | UnsetType = UNSET
    retention_days: int | None | UnsetType = UNSET


class Member(Shape):
    user_id: int
    email: str
    role: Role
    created_at: str


class Invitation(Shape):
    id: int
    email: str
    role: Role
    created_at: str
    expires_at: str


class Members(Shape):
    members: list[Member]
    invitations: list[Invitation]


class InvitationBody(msgspec.Struct):
    email: str
    role: Role = "viewer"


class InvitationSent(Shape):
    """`url` is the link to pass on by hand, present only when the instance cannot mail it."""

    invitation: Invitation
    emailed: bool
    url: str | UnsetType = UNSET


class RoleBody(msgspec.Struct):
    role: Role


class SiteKey(Credential):
    pass


class NewSiteKey(SiteKey):
    key: str


class SiteKeys(Shape):
    keys: list[SiteKey]


class KeyBody(msgspec.Struct):
    name: str = ""


class Sharing(Shape):
    """`token` is present while sharing is on."""

    enabled: bool
    url: str | None
    has_password: bool
    token: str | UnsetType = UNSET


class SharingBody(msgspec.Struct):
    """`password` null removes it; absent keeps it."""

    enabled: bool
    password: str | None | UnsetType = UNSET


class SharedSiteSummary(Shape):
    id: str
    domain: str
    name: str | None
    timezone: str
    currency: str


class SharedSite(Shape):
    site: SharedSiteSummary
    has_password: bool


class PasswordBody(msgspec.Struct):
    password: str


SITE = {
    "id": "pm_AbC123xyz987", "domain": "example.com", "name": "Example", "timezone": "Europe/Berlin",
    "currency": "EUR", "allowed_hostnames": [], "excluded_ips": [], "excluded_countries": [],
    "excluded_hostnames": [], "excluded_paths": [], "cookieless": False, "retention_days": None,
    "role": "owner", "created_at": "2026-11-26T10:00:00Z", "updated_at": "2026-11-26T10:00:00Z",
}
MEMBER = {"user_id": 2, "email": "bob@example.com", "role": "viewer", "created_at": "2026-11-26T10:00:00Z"}
INVITATION = {"id": 1, "email": "carol@example.com", "role": "admin", "created_at": "2026-11-26T10:00:00Z",
              "expires_at": "2026-12-03T10:00:00Z"}
KEY = {"id": 3, "name": "backend", "prefix": "pmk_Xy1z", "created_at": "2026-11-26T10:00:00Z",
       "last_used_at": None, "revoked_at": None}
SHARING = {"enabled": True, "url": "https://stats.example.com/share/Zk9…", "token": "Zk9…", "has_password": True}
SHARE_ERROR = error("Unknown link or sharing off.", "share: this link is unknown or sharing was turned off")

A, S, T = "Accounts", "Sites", "Sharing"
TAGS = [{"name": A}, {"name": S}, {"name": T}]


def _ok(status: int, shape, example) -> dict[int, Answer]:
    return {status: Answer("OK", shape, example)}


OPERATIONS = [
    Operation("get", "/api/v1/auth/signup", "signup_policy",
              A, "Whether someone without an invitation may sign up (POSTMETRIC_SIGNUP).",
              _ok(200, SignupPolicy, {"mode": "invite", "open": False, "reason": "signup: this instance takes new "
                                      "accounts by invitation only; ask a site's owner to invite you"})),
    Operation("post", "/api/v1/auth/signup", "signup", A, "Create an account and log in (sets the pm_session cookie).",
              {**_ok(201, SessionInfo, LOGGED_IN), **E400, **E409, **E415, 403: error(
                  "POSTMETRIC_SIGNUP does not let this person in, or another site's page sent it.",
                  "signup: this instance takes new accounts by invitation only; ask a site's owner to invite you")},
              description="With POSTMETRIC_SIGNUP=invite (the default) only the first account signs up without "
                          "`invitation`, the token of a live invitation sent to `email`; `closed` refuses all.",
              body=SignupBody,
              body_example={"email": "ada@example.com", "password": "at least 10 characters", "invitation": "…"}),
    Operation("post", "/api/v1/auth/login", "login", A, "Log in (sets the pm_session cookie).",
              {**_ok(200, SessionInfo, LOGGED_IN), **E400, 401: error("Wrong pair.", "email or password is wrong"),
               **E429, **BROWSER_ERRORS},
              body=LoginBody, body_example={"email": "ada@example.com", "password": "…"}),
    Operation("post", "/api/v1/auth/logout", "logout", A, "End this session.",
              {204: NO_CONTENT, **E401, **E403, 400: error(
                  "A credential other than the session cookie.",
                  "session: only a dashboard session can log out; revoke API keys instead")},
              security=SESSION_ONLY),
    Operation("get", "/api/v1/auth/session", "session", A, "Who is logged in, and the CSRF token for changes.",
              {**_ok(200, SessionInfo, LOGGED_IN), **E401}, security=SESSION_ONLY),
    Operation("post", "/api/v1/auth/password-reset", "password_reset",
              A, "Mail a password reset link ({base_url}/reset-password?token=…, 1 hour, single use).",
              {202: NO_CONTENT, **E400, **E429, **E503, **BROWSER_ERRORS},
              description="Answers 202 whether or not the address has an account.",
              body=PasswordResetBody, body_example={"email": "ada@example.com"}),
    Operation("post", "/api/v1/auth/password-reset/confirm", "password_reset_confirm",
              A, "Set a new password with the mailed token; ends every session of the user, revokes their account "
                 "tokens and voids every other reset link.",
              {204: NO_CONTENT, **E400, **BROWSER_ERRORS},
              body=PasswordResetConfirmBody, body_example={"token": "…", "password": "a new long password"}),
    Operation("get", "/api/v1/tokens", "list_tokens",
              A, "The account's tokens, revoked ones included; never their secrets.",
              {**_ok(200, AccountTokens, {"tokens": [TOKEN]}), **E401, **E403}, security=COOKIE),
    Operation("post", "/api/v1/tokens", "create_token",
              A, "A new account token; `token` holds its value, shown this once (from a dashboard session only).",
              {**_ok(201, NewAccountToken, {**TOKEN, "last_used_at": None, "token": "pmt_…"}), **E400, **E401, **E403},
              security=SESSION_ONLY, body=NameBody, body_example={"name": "CI"}),
    Operation("delete", "/api/v1/tokens/{id}", "revoke_token",
              A, "Revoke one of the account's tokens; it stops working at once.",
              {204: NO_CONTENT, **E401, **E403,
               404: error("Not one of this account's tokens.", "account token 7 not found")},
              security=COOKIE, parameters=[path_integer("id")]),
    Operation("post", "/api/v1/invitations/{token}/accept", "accept_invitation",
              A, "Join a site with a mailed invitation (as the invited email's user).",
              {**_ok(200, AcceptedInvitation, {"site_id": "pm_AbC123xyz987", "role": "admin"}), **E401,
               403: error("Invited another email.",
                          "email: this invitation is for another email address; log in as carol@example.com"),
               404: error("Unknown, used or expired.", "invitation 'this link' not found")},
              security=COOKIE, parameters=[path_text("token")]),
    Operation("get", "/api/v1/sites", "list_sites", S, "The sites the user is a member of, with their role.",
              {**_ok(200, Sites, {"sites": [SITE]}), **E401, **E403}, security=COOKIE),
    Operation("post", "/api/v1/sites", "create_site", S, "Create a site; the caller becomes its owner.",
              {**_ok(201, Site, SITE), **E400, **E401, **E403, **E409}, security=COOKIE, body=SiteCreateBody,
              body_example={"domain": "example.com", "name": "Example", "timezone": "Europe/Berlin",
                            "currency": "EUR"}),
    Operation("get", "/api/v1/sites/{id}", "get_site", S, "A site with every setting.",
              {**_ok(200, Site, SITE), **E401, **E403, **E404}, security=COOKIE, parameters=[SITE_PARAM]),
    Operation("put", "/api/v1/sites/{id}", "update_site",
              S, "Change any subset of the settings (admins and owners), all or nothing.",
              {**_ok(200, Site, SITE), **SITE_ERRORS, **E409}, security=COOKIE, parameters=[SITE_PARAM],
              description="`retention_days`: 30 to 3650, or null to keep visits forever; older visits are deleted "
                          "within the hour, with their events and identities (payments stay).",
              body=SiteSettingsBody, body_example={"timezone": "UTC", "excluded_paths": ["/admin/*"]}),
    Operation("delete", "/api/v1/sites/{id}", "delete_site", S, "Delete the site (owners only).",
              {204: NO_CONTENT, **SITE_ERRORS}, security=COOKIE, parameters=[SITE_PARAM],
              description="Its events, visits, identities and payments are purged from the event store before the "
                          "answer; its id is never given to another site."),
    Operation("get", "/api/v1/sites/{id}/members", "list_members", S, "Members and open invitations.",
              {**_ok(200, Members, {"members": [MEMBER], "invitations": [INVITATION]}), **E401, **E403, **E404},
              security=COOKIE, parameters=[SITE_PARAM]),
    Operation("post", "/api/v1/sites/{id}/members", "invite_member",
              S, "Invite by email (admins and owners; only owners invite owners).",
              {**_ok(201, InvitationSent, {"invitation": INVITATION, "emailed": True}), **SITE_ERRORS, **E409},
              security=COOKIE, parameters=[SITE_PARAM],
              description="The mail links to {base_url}/invitations/{token}. Without SMTP, `emailed` is false and "
                          "`url` holds the link to pass on.",
              body=InvitationBody, body_example={"email": "carol@example.com", "role": "admin"}),
    Operation("put", "/api/v1/sites/{id}/members/{user_id}", "change_member", S, "Change a member's role.",
              {**_ok(200, Member, MEMBER), **SITE_ERRORS}, security=COOKIE,
              parameters=[SITE_PARAM, path_integer("user_id")], body=RoleBody, body_example={"role": "admin"}),
    Operation("delete", "/api/v1/sites/{id}/members/{user_id}", "remove_member",
              S, "Remove a member (a site keeps at least one owner).",
              {204: NO_CONTENT, **SITE_ERRORS}, security=COOKIE, parameters=[SITE_PARAM, path_integer("user_id")]),
    Operation("get", "/api/v1/sites/{id}/keys", "list_keys",
              S, "The site's keys, revoked ones included (admins and owners).",
              {**_ok(200, SiteKeys, {"keys": [KEY]}), **SITE_ERRORS}, security=COOKIE, parameters=[SITE_PARAM]),
    Operation("post", "/api/v1/sites/{id}/keys", "create_key", S, "A new site key; `key` is the raw value, shown this once.",
              {**_ok(201, NewSiteKey, {**KEY, "key": "pmk_Xy1z…"}), **SITE_ERRORS}, security=COOKIE,
              parameters=[SITE_PARAM], body=KeyBody, body_example={"name": "backend"}),
    Operation("delete", "/api/v1/sites/{id}/keys/{key_id}", "revoke_key", S, "Revoke a key; it stops working at once.",
              {204: NO_CONTENT, **SITE_ERRORS}, security=COOKIE, parameters=[SITE_PARAM, path_integer("key_id")]),
    Operation("get", "/api/v1/sites/{id}/sharing", "get_sharing", T, "The public share link.",
              {**_ok(200, Sharing, SHARING), **E401, **E403, **E404}, security=COOKIE, parameters=[SITE_PARAM]),
    Operation("put", "/api/v1/sites/{id}/sharing", "set_sharing",
              T, "Turn the share link on or off; set or remove (null) its password.",
              {**_ok(200, Sharing, SHARING), **SITE_ERRORS}, security=COOKIE, parameters=[SITE_PARAM],
              description="Turning sharing off and on makes a new link; changing the password ends old access.",
              body=SharingBody, body_example={"enabled": True, "password": "optional"}),
    Operation("get", "/api/v1/share/{token}", "share_info", T, "The shared site, for the public dashboard.",
              {**_ok(200, SharedSite, {"site": {k: SITE[k] for k in ("id", "domain", "name", "timezone", "currency")},
                                       "has_password": True}), 404: SHARE_ERROR},
              security=[], parameters=[path_text("token")]),
    Operation("post", "/api/v1/share/{token}/unlock", "share_unlock",
              T, "Give a share link's password; sets the pm_share cookie.",
              {204: NO_CONTENT, 401: error("Wrong password.", "password: is wrong"), **E429, **BROWSER_ERRORS,
               404: SHARE_ERROR},
              security=[], parameters=[path_text("token")], body=PasswordBody, body_example={"password": "…"}),
]
