"""The sites API (SPEC §8): sites and their settings, team members, site keys, share links.

Callers: the dashboard session (with its CSRF header on changes) or an account token; a site
key gets 403 (it reads stats, it does not manage sites). `{id}` is a site's public id or domain.
A site the caller is not a member of is 404, exactly as one that does not exist; a member whose
role does not allow a change gets 403 naming the rule ("role: viewers cannot change settings").

Routes are thin: find the site the caller may see (`web/auth.visible_site`), then call one
function of `sites/` in a transaction; domain errors become 400/403/404/409 in `api_endpoint`.
"""

from __future__ import annotations


from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from postmetric.accounts.keys import create_site_key, revoke_site_key
from postmetric.sites.members import (
    MANAGERS,
    change_role,
    invite,
    list_invitations,
    list_members,
    remove_member,
    require_role,
)
from postmetric.sites.purge import purge_site
from postmetric.sites.service import create_site, delete_site, update_site_settings
from postmetric.sites.sharing import get_share, set_sharing, share_by_token, unlock
from postmetric.store.metadata import ApiKey, Site, SiteInvitation, SiteMember, SiteShare, User
from postmetric.web.auth import (
    SHARE_COOKIE,
    Caller,
    account_user_id,
    api_endpoint,
    is_https,
    path_id,
    public_endpoint,
    require_account_site,
)
from postmetric.web.bodies import json_object
from postmetric.web.client_ip import client_ip
from postmetric.web.contract import accounts as contract
from postmetric.web.db import transaction
from postmetric.web.errors import HttpError
from postmetric.web.responses import iso_time, json_response
from postmetric.web.routes.accounts import count_login_attempt, now_of, send_mail
from postmetric.web.services import services_of

SETTINGS = ("domain", "name", "timezone", "currency", "allowed_hostnames", "excluded_ips", "excluded_countries",
            "excluded_hostnames", "excluded_paths", "cookieless", "retention_days")



def site_json(site: Site, role: str | None) -> contract.Site:
    return contract.Site(id=site.public_id, **{name: getattr(site, name) for name in SETTINGS}, role=role,
                         created_at=iso_time(site.created_at), updated_at=iso_time(site.updated_at))


# -- sites ---------------------------------------------------------------------------------


@api_endpoint
async def list_sites(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites` → `{"sites": [site…]}`: every site the user is a member of."""
    user_id = account_user_id(caller)

    def load(session: Session) -> list[contract.Site]:
        rows = session.execute(
            select(Site, SiteMember.role).join(SiteMember, SiteMember.site_id == Site.id)
            .where(SiteMember.user_id == user_id).order_by(Site.created_at, Site.id)
        )
        return [site_json(site, role) for site, role in rows]

    return json_response(contract.Sites(sites=await transaction(request, load)))


@api_endpoint
async def post_site(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/sites {domain, name?, timezone?, currency?}` → 201 the site, owned by the caller."""
    user_id = account_user_id(caller)
    body = await json_object(request)
    unknown = sorted(set(body) - {"domain", "name", "timezone", "currency"})
    if unknown:
        raise HttpError(400, f"{unknown[0]}: set it with PUT /api/v1/sites/{{id}} after creating the site")
    if "domain" not in body:
        raise HttpError(400, "domain: is required, e.g. example.com")

    def create(session: Session) -> contract.Site:
        site = create_site(session, owner=session.get_one(User, user_id), **body)
        return site_json(site, "owner")

    return json_response(await transaction(request, create), 201)


@api_endpoint
async def get_site_settings(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}` → the site with every setting and the caller's role."""
    visible = await require_account_site(request, caller)
    site = await transaction(request, lambda session: session.get_one(Site, visible.id))
    return json_response(site_json(site, visible.role))


@api_endpoint
async def put_site_settings(request: Request, caller: Caller) -> Response:
    """`PUT /api/v1/sites/{id} {any settings}` → the changed site; all or nothing."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "change settings")
    body = await json_object(request)

    def change(session: Session) -> contract.Site:
        return site_json(update_site_settings(session, session.get_one(Site, visible.id), **body), visible.role)

    return json_response(await transaction(request, change))


@api_endpoint
async def delete_site_route(request: Request, caller: Caller) -> Response:
    """`DELETE /api/v1/sites/{id}` → 204 once the site is gone, with its events, visits, identities and
    payments in the event store (`sites/purge.py`); owners only."""
    services = services_of(request)
    visible = await require_account_site(request, caller)
    require_role(visible.role, ("owner",), "delete the site")
    await transaction(request, lambda session: delete_site(session, session.get_one(Site, visible.id)))
    services.site_directory.invalidate(visible.public_id)  # its events are refused from now on
    await run_in_threadpool(purge_site, visible.id, writer=services.writer, events=services.events)
    await services.sessions.forget_site(visible.id)
    return Response(status_code=204)


# -- members -------------------------------------------------------------------------------


def _member_json(member: SiteMember) -> contract.Member:
    return contract.Member(user_id=member.user_id, email=member.user.email, role=member.role,
                           created_at=iso_time(member.created_at))


def _invitation_json(invitation: SiteInvitation) -> contract.Invitation:
    return contract.Invitation(id=invitation.id, email=invitation.email, role=invitation.role,
                               created_at=iso_time(invitation.created_at), expires_at=iso_time(invitation.expires_at))


@api_endpoint
async def get_members(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/members` → `{"members": […], "invitations": [open ones]}`."""
    visible = await require_account_site(request, caller)

    def load(session: Session) -> contract.Members:
        site = session.get_one(Site, visible.id)
        return contract.Members(
            members=[_member_json(member) for member in list_members(session, site)],
            invitations=[_invitation_json(invitation)
                         for invitation in list_invitations(session, site, now=now_of(request))],
        )

    return json_response(await transaction(request, load))


@api_endpoint
async def post_member(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/sites/{id}/members {email, role}` → 201; the invitation is mailed (or its url returned)."""
    services = services_of(request)
    visible = await require_account_site(request, caller)
    body = await json_object(request)

    def create(session: Session) -> tuple[contract.Invitation, str]:
        invitation, token = invite(session, session.get_one(Site, visible.id), email=body.get("email"),
                                   role=body.get("role", "viewer"), acting_role=visible.role, now=now_of(request))
        return _invitation_json(invitation), token

    invitation, token = await transaction(request, create)
    url = f"{services.settings.base_url.rstrip('/')}/invitations/{token}"
    if services.mailer is None:  # no SMTP: the inviter passes the link on by hand
        return json_response(contract.InvitationSent(invitation=invitation, emailed=False, url=url), 201)
    response = json_response(contract.InvitationSent(invitation=invitation, emailed=True), 201)
    response.background = BackgroundTask(
        send_mail, services.mailer, to=invitation.email, subject=f"You are invited to {visible.domain} on Postmetric",
        text=f"You are invited to see the analytics of {visible.domain} as {invitation.role}.\n\n"
             f"Accept within a week at:\n{url}\n",
    )
    return response



@api_endpoint
async def put_member(request: Request, caller: Caller) -> Response:
    """`PUT /api/v1/sites/{id}/members/{user_id} {role}` → the member."""
    visible = await require_account_site(request, caller)
    body = await json_object(request)
    user_id = path_id(request, "user_id", "member")

    def change(session: Session) -> contract.Member:
        member = change_role(session, session.get_one(Site, visible.id), user_id=user_id, role=body.get("role"),
                             acting_role=visible.role)
        return _member_json(member)

    return json_response(await transaction(request, change))


@api_endpoint
async def delete_member(request: Request, caller: Caller) -> Response:
    """`DELETE /api/v1/sites/{id}/members/{user_id}` → 204."""
    visible = await require_account_site(request, caller)
    user_id = path_id(request, "user_id", "member")
    await transaction(request, lambda session: remove_member(
        session, session.get_one(Site, visible.id), user_id=user_id, acting_role=visible.role))
    return Response(status_code=204)


# -- site keys -----------------------------------------------------------------------------


def _key_fields(key: ApiKey) -> dict:
    return {"id": key.id, "name": key.name, "prefix": key.prefix, "created_at": iso_time(key.created_at),
            "last_used_at": iso_time(key.last_used_at), "revoked_at": iso_time(key.revoked_at)}


@api_endpoint
async def get_keys(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/keys` → `{"keys": […]}`, revoked ones included; admins and owners."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "manage keys")

    def load(session: Session) -> list[contract.SiteKey]:
        keys = session.scalars(select(ApiKey).where(ApiKey.site_id == visible.id).order_by(ApiKey.id))
        return [contract.SiteKey(**_key_fields(key)) for key in keys]

    return json_response(contract.SiteKeys(keys=await transaction(request, load)))


@api_endpoint
async def post_key(request: Request, caller: Caller) -> Response:
    """`POST /api/v1/sites/{id}/keys {name}` → 201 the key with its raw value in `key`, shown this once."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "manage keys")
    body = await json_object(request)

    def create(session: Session) -> contract.NewSiteKey:
        key, raw = create_site_key(session, site=session.get_one(Site, visible.id), name=body.get("name") or "")
        return contract.NewSiteKey(**_key_fields(key), key=raw)

    return json_response(await transaction(request, create), 201)


@api_endpoint
async def delete_key(request: Request, caller: Caller) -> Response:
    """`DELETE /api/v1/sites/{id}/keys/{key_id}` → 204; the key stops working at once."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "manage keys")
    key_id = path_id(request, "key_id", "site key")
    await transaction(request, lambda session: revoke_site_key(
        session, site=session.get_one(Site, visible.id), key_id=key_id, now=now_of(request)))
    return Response(status_code=204)


# -- sharing -------------------------------------------------------------------------------


def _sharing_json(request: Request, share: SiteShare | None) -> contract.Sharing:
    if share is None:
        return contract.Sharing(enabled=False, url=None, has_password=False)
    base_url = services_of(request).settings.base_url.rstrip("/")
    return contract.Sharing(enabled=True, url=f"{base_url}/share/{share.token}", token=share.token,
                            has_password=share.password_hash is not None)


@api_endpoint
async def get_sharing(request: Request, caller: Caller) -> Response:
    """`GET /api/v1/sites/{id}/sharing` → `{"enabled", "url", "token", "has_password"}`."""
    visible = await require_account_site(request, caller)
    share = await transaction(request, lambda session: get_share(session, session.get_one(Site, visible.id)))
    return json_response(_sharing_json(request, share))


@api_endpoint
async def put_sharing(request: Request, caller: Caller) -> Response:
    """`PUT /api/v1/sites/{id}/sharing {enabled, password?}`: password null removes it, absent keeps it."""
    visible = await require_account_site(request, caller)
    require_role(visible.role, MANAGERS, "change sharing")
    body = await json_object(request)
    extra = {"password": body["password"]} if "password" in body else {}
    share = await transaction(request, lambda session: set_sharing(
        session, session.get_one(Site, visible.id), enabled=body.get("enabled"), **extra))
    return json_response(_sharing_json(request, share))


async def _shared(request: Request) -> tuple[SiteShare, Site]:
    token = request.path_params["token"]

    def load(session: Session) -> tuple[SiteShare, Site] | None:
        share = share_by_token(session, token)
        return (share, session.get_one(Site, share.site_id)) if share is not None else None

    found = await transaction(request, load)
    if found is None:
        raise HttpError(404, "share: this link is unknown or sharing was turned off")
    return found


def _client_address(request: Request) -> str:
    services = services_of(request)
    return client_ip(request.client.host if request.client else "", request.headers, services.trusted_proxies)


@public_endpoint
async def get_share_info(request: Request) -> Response:
    """`GET /api/v1/share/{token}` → what the shared dashboard needs before it queries."""
    share, site = await _shared(request)
    return json_response(contract.SharedSite(
        site=contract.SharedSiteSummary(id=site.public_id, domain=site.domain, name=site.name, timezone=site.timezone,
                                        currency=site.currency),
        has_password=share.password_hash is not None))


@public_endpoint
async def post_share_unlock(request: Request) -> Response:
    """`POST /api/v1/share/{token}/unlock {password}` → 204 and the `pm_share` cookie; 401 wrong password."""
    services = services_of(request)
    share, _ = await _shared(request)
    body = await json_object(request)
    # Per link and client, not per link alone: one client guessing must not lock the link's real
    # viewers out. count_login_attempt also caps the client across links and logins.
    count_login_attempt(request, f"share:{share.site_id}:{_client_address(request)}")
    proof = unlock(share, body.get("password"), services.secret_key)
    if proof is None:
        raise HttpError(401, "password: is wrong")
    response = Response(status_code=204)
    response.set_cookie(SHARE_COOKIE, f"{share.token}.{proof}", max_age=30 * 24 * 3600, path="/",
                        httponly=True, samesite="lax", secure=is_https(request))
    return response


routes = [
    Route("/api/v1/sites", list_sites, methods=["GET"]),
    Route("/api/v1/sites", post_site, methods=["POST"]),
    Route("/api/v1/sites/{id}", get_site_settings, methods=["GET"]),
    Route("/api/v1/sites/{id}", put_site_settings, methods=["PUT"]),
    Route("/api/v1/sites/{id}", delete_site_route, methods=["DELETE"]),
    Route("/api/v1/sites/{id}/members", get_members, methods=["GET"]),
    Route("/api/v1/sites/{id}/members", post_member, methods=["POST"]),
    Route("/api/v1/sites/{id}/members/{user_id}", put_member, methods=["PUT"]),
    Route("/api/v1/sites/{id}/members/{user_id}", delete_member, methods=["DELETE"]),
    Route("/api/v1/sites/{id}/keys", get_keys, methods=["GET"]),
    Route("/api/v1/sites/{id}/keys", post_key, methods=["POST"]),
    Route("/api/v1/sites/{id}/keys/{key_id}", delete_key, methods=["DELETE"]),
    Route("/api/v1/sites/{id}/sharing", get_sharing, methods=["GET"]),
    Route("/api/v1/sites/{id}/sharing", put_sharing, methods=["PUT"]),
    Route("/api/v1/share/{token}", get_share_info, methods=["GET"]),
    Route("/api/v1/share/{token}/unlock", post_share_unlock, methods=["POST"]),
]
