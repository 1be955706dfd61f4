"""Who may create an account from the dashboard (`POSTMETRIC_SIGNUP`).

- `open`: anyone.
- `invite` (the default): the first account freely (whoever installs the instance), later people
  only with a live invitation to a site (sites/members.py) sent to the address they sign up with.
- `closed`: nobody; `postmetric users create` still makes accounts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from postmetric.accounts.keys import hash_secret
from postmetric.accounts.users import create_user, normalize_email
from postmetric.config import SignupMode
from postmetric.errors import Forbidden
from postmetric.store.metadata import SiteInvitation, User

INVITE_ONLY = "signup: this instance takes new accounts by invitation only; ask a site's owner to invite you"
CLOSED = "signup: this instance takes no new accounts; its administrator creates them (postmetric users create)"


def signup_policy(session: Session, mode: SignupMode) -> dict[str, object]:
    """What the signup page needs before asking: the mode, and whether a person without an
    invitation may sign up now (`invite` mode lets the first account in)."""
    first_account = not session.scalar(select(exists().select_from(User)))
    if mode == "open" or (mode == "invite" and first_account):
        return {"mode": mode, "open": True, "reason": None}
    return {"mode": mode, "open": False, "reason": CLOSED if mode == "closed" else INVITE_ONLY}


def sign_up(
    session: Session, *, mode: SignupMode, email: str, password: str, invitation: str | None, now: datetime
) -> User:
    """A new account, if `mode` lets this person in; Forbidden saying why not otherwise."""
    policy = signup_policy(session, mode)
    if not policy["open"]:
        if mode == "closed" or not _invited(session, email=email, token=invitation, now=now):
            raise Forbidden(str(policy["reason"]))
    return create_user(session, email=email, password=password)


def _invited(session: Session, *, email: str, token: str | None, now: datetime) -> bool:
    """Whether `token` is a live invitation for `email` (only the invited mailbox has the token)."""
    if not token:
        return False
    invitation = session.scalar(select(SiteInvitation).where(SiteInvitation.token_hash == hash_secret(token)))
    return (invitation is not None and invitation.accepted_at is None and invitation.expires_at > now
            and invitation.email == normalize_email(email))
