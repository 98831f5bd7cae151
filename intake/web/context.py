"""Per-request helpers shared by the pages: the signed-in user, the template, the database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from intake.config import Settings
from intake.web.auth import User
from intake.web.i18n import LANGUAGES, words
from intake.web.security import csrf_token


class LoginRequired(Exception):
    """No one is signed in: go to the sign-in page."""


def settings(request: Request) -> Settings:
    return request.app.state.settings


def now(request: Request) -> datetime:
    return request.app.state.clock()


@contextmanager
def db(request: Request) -> Iterator[Session]:
    with request.app.state.sessions() as session:
        yield session


def current_user(request: Request) -> User | None:
    return User.from_session(request.session.get("user"))


def require(request: Request, role: str = "viewer") -> User:
    """The signed-in user with at least `role`; sign-in or 403 otherwise."""
    user = current_user(request)
    if user is None:
        raise LoginRequired()
    if not user.can(role):
        raise HTTPException(403)
    return user


def visible_mailboxes(request: Request, user: User) -> list[str]:
    return [m.key for m in settings(request).mailboxes if user.sees(m.key)]


def check_mailbox(user: User, mailbox_key: str) -> None:
    """Per-mailbox authorisation: a case of another mailbox is forbidden, not merely hidden."""
    if not user.sees(mailbox_key):
        raise HTTPException(403)


def language(request: Request) -> str:
    chosen = request.session.get("lang")
    return chosen if chosen in LANGUAGES else settings(request).web.language


def flash(request: Request, kind: str, text: str) -> None:
    request.session["flash"] = {"kind": kind, "text": text[:600]}


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    lang = language(request)
    user = current_user(request)
    page = {
        "request": request,
        "t": words(lang),
        "lang": lang,
        "languages": LANGUAGES,
        "user": user,
        "csrf": csrf_token(request),
        "demo": request.app.state.demo,
        "flash": request.session.pop("flash", None),
        "mailbox_names": {m.key: m.controller for m in settings(request).mailboxes},
        **values,
    }
    return request.app.state.templates.TemplateResponse(request, template, page,
                                                        status_code=status_code)


def back_to(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)
