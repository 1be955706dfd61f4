"""Team members of a site: roles, invitations by email, and who may do what.

Roles: "owner" (everything, including deleting the site and naming owners), "admin" (settings,
keys, sharing, members other than owners) and "viewer" (reads stats and settings). The site's
creator is its first owner; `Site.owner_id` keeps naming an owner (the creator until they leave,
then the longest-standing owner), and a site always keeps at least one owner.

Secondary responsibilities:
1. The permission rules (`require_role`), raised as `Forbidden` naming the rule.
2. Invitation tokens: single-use, INVITATION_LIFETIME, stored as their sha256.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from postmetric.accounts.keys import hash_secret
from postmetric.accounts.users import normalize_email
from postmetric.errors import AlreadyExists, Forbidden, NotFound, ValidationError
from postmetric.store.metadata import Site, SiteInvitation, SiteMember, User

ROLES = ("owner", "admin", "viewer")
MANAGERS = ("owner", "admin")
INVITATION_LIFETIME = timedelta(days=7)


def role_of(session: Session, *, site_id: int, user_id: int) -> str | None:
    return session.scalar(
        select(SiteMember.role).where(SiteMember.site_id == site_id, SiteMember.user_id == user_id)
    )


def require_role(role: str | None, allowed: tuple[str, ...], action: str) -> None:
    """Forbidden unless `role` is one of `allowed`; `action` completes "<role>s cannot …"."""
    if role not in allowed:
        raise Forbidden(f"role: {role or 'non-member'}s cannot {action}")


def _role(value: object) -> str:
    if value not in ROLES:
        raise ValidationError("role", f"{value!r} is not a role; roles: {', '.join(ROLES)}")
    return value  # type: ignore[return-value]


def list_members(session: Session, site: Site) -> list[SiteMember]:
    """Owners first, then admins, then viewers; by email within a role."""
    rank = case({role: position for position, role in enumerate(ROLES)}, value=SiteMember.role)
    return list(session.scalars(
        select(SiteMember).join(User, User.id == SiteMember.user_id)
        .where(SiteMember.site_id == site.id).order_by(rank, User.email)
    ))


def list_invitations(session: Session, site: Site, *, now: datetime) -> list[SiteInvitation]:
    """Invitations still open: not accepted, not expired."""
    return list(session.scalars(
        select(SiteInvitation).where(
            SiteInvitation.site_id == site.id,
            SiteInvitation.accepted_at.is_(None),
            SiteInvitation.expires_at > now,
        ).order_by(SiteInvitation.id)
    ))


def invite(
    session: Session, site: Site, *, email: object, role: object, acting_role: str | None, now: datetime
) -> tuple[SiteInvitation, str]:
    """A new invitation and its raw token to mail. An existing user is invited too, never added silently."""
    require_role(acting_role, MANAGERS, "manage members")
    role = _role(role)
    if role == "owner":
        require_role(acting_role, ("owner",), "make owners")
    if not isinstance(email, str):
        raise ValidationError("email", "is required: the address to send the invitation to")
    email = normalize_email(email)
    already = session.scalar(
        select(SiteMember.user_id).join(User, User.id == SiteMember.user_id)
        .where(SiteMember.site_id == site.id, User.email == email)
    )
    if already is not None:
        raise AlreadyExists("member", "email", email)
    raw = secrets.token_urlsafe(32)
    invitation = SiteInvitation(site_id=site.id, email=email, role=role, token_hash=hash_secret(raw),
                                created_at=now, expires_at=now + INVITATION_LIFETIME)
    session.add(invitation)
    session.flush()
    return invitation, raw


def accept_invitation(session: Session, *, token: str, user: User, now: datetime) -> SiteMember:
    """Make `user` a member; the invitation must be open and addressed to the user's email."""
    invitation = session.scalar(select(SiteInvitation).where(SiteInvitation.token_hash == hash_secret(token)))
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now:
        raise NotFound("invitation", "this link")
    if invitation.email != user.email:
        raise Forbidden(f"email: this invitation is for another email address; log in as {invitation.email}")
    invitation.accepted_at = now
    member = session.get(SiteMember, (invitation.site_id, user.id))
    if member is None:
        member = SiteMember(site_id=invitation.site_id, user_id=user.id, role=invitation.role, created_at=now)
        session.add(member)
    elif ROLES.index(invitation.role) < ROLES.index(member.role):  # an invitation never demotes
        member.role = invitation.role
    session.flush()
    return member


def _member(session: Session, site: Site, user_id: int) -> SiteMember:
    member = session.get(SiteMember, (site.id, user_id))
    if member is None:
        raise NotFound("member", user_id)
    return member


def _ensure_another_owner(session: Session, site: Site, member: SiteMember) -> None:
    owners = session.scalar(
        select(func.count()).select_from(SiteMember).where(SiteMember.site_id == site.id, SiteMember.role == "owner")
    )
    if member.role == "owner" and owners <= 1:
        raise Forbidden("role: a site needs an owner; make another member owner first")


def _repoint_owner(session: Session, site: Site) -> None:
    """Keep `Site.owner_id` on an owner after the one it named left or stepped down."""
    session.flush()
    if role_of(session, site_id=site.id, user_id=site.owner_id) == "owner":
        return
    site.owner_id = session.scalar(
        select(SiteMember.user_id).where(SiteMember.site_id == site.id, SiteMember.role == "owner")
        .order_by(SiteMember.created_at, SiteMember.user_id).limit(1)
    )
    session.flush()


def change_role(session: Session, site: Site, *, user_id: int, role: object, acting_role: str | None) -> SiteMember:
    require_role(acting_role, MANAGERS, "manage members")
    role = _role(role)
    member = _member(session, site, user_id)
    if "owner" in (role, member.role):
        require_role(acting_role, ("owner",), "change owners")
    if member.role == "owner" and role != "owner":
        _ensure_another_owner(session, site, member)
    member.role = role
    _repoint_owner(session, site)
    return member


def remove_member(session: Session, site: Site, *, user_id: int, acting_role: str | None) -> None:
    require_role(acting_role, MANAGERS, "manage members")
    member = _member(session, site, user_id)
    if member.role == "owner":
        require_role(acting_role, ("owner",), "change owners")
        _ensure_another_owner(session, site, member)
    session.delete(member)
    _repoint_owner(session, site)
