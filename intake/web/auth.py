"""Who is signed in: roles from an OIDC claim or the local [[web.user]] mapping, per mailbox."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from intake.config import WEB_ROLES, WebSettings

RANK = {role: i for i, role in enumerate(WEB_ROLES)}  # viewer < handler < admin
ACTOR_MAX = 120


@dataclass(frozen=True)
class User:
    login: str  # e-mail or subject
    name: str
    role: str
    mailboxes: tuple[str, ...] | None  # None: every mailbox

    def can(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    def sees(self, mailbox_key: str) -> bool:
        return self.mailboxes is None or mailbox_key in self.mailboxes

    @property
    def actor(self) -> str:
        """The audit trail's actor: the person's name and login."""
        if self.name and self.name != self.login:
            return f"{self.name} <{self.login}>"[:ACTOR_MAX]
        return self.login[:ACTOR_MAX]

    def to_session(self) -> dict[str, Any]:
        return {"login": self.login, "name": self.name, "role": self.role,
                "mailboxes": list(self.mailboxes) if self.mailboxes is not None else None}

    @classmethod
    def from_session(cls, data: Mapping[str, Any] | None) -> User | None:
        if not data or data.get("role") not in RANK:
            return None
        boxes = data.get("mailboxes")
        return cls(str(data["login"]), str(data.get("name") or ""), data["role"],
                   tuple(boxes) if boxes is not None else None)


def user_from_claims(claims: Mapping[str, Any], web: WebSettings,
                     known_mailboxes: Iterable[str]) -> User | None:
    """The user the ID token describes, or None when no role is granted.

    The local mapping ([[web.user]], by e-mail or subject) wins over the claim. Claim values are
    "viewer", "handler", "admin" (every mailbox) or "handler:wse" (one mailbox); the highest role
    counts, and the mailboxes are those the values name at that role or any mailbox-less value.
    """
    login = str(claims.get("email") or claims.get("sub") or "").strip().lower()
    if not login:
        return None
    name = str(claims.get(web.name_claim) or claims.get("name") or login)[:ACTOR_MAX]
    subject = str(claims.get("sub") or "").strip().lower()
    for mapped in web.users:
        if mapped.login in (login, subject):
            return User(login, name, mapped.role, mapped.mailboxes or None)
    values = claims.get(web.roles_claim) or []
    if isinstance(values, str):
        values = values.split()
    known = set(known_mailboxes)
    grants: dict[str, set[str] | None] = {}
    for value in values:
        role, _, box = str(value).strip().lower().partition(":")
        if role not in RANK or (box and box not in known):
            continue
        current = grants.get(role, set())
        grants[role] = None if (not box or current is None) else current | {box}
    if not grants:
        return None
    role = max(grants, key=RANK.__getitem__)
    boxes = grants[role]
    return User(login, name, role, tuple(sorted(boxes)) if boxes is not None else None)
