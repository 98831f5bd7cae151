"""The pages staff read: work queue, case, listed mail, register, digest, settings.

Plain functions: Starlette runs them in its thread pool, so a slow query never blocks the loop.
"""

from __future__ import annotations

from datetime import date
from time import monotonic
from urllib.parse import urlencode

from sqlalchemy import func, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from intake.cases.queries import case_detail
from intake.cases.register import (
    csv_chunks,
    register_csv_lines,
    register_entries,
    register_filter,
)
from intake.rights import RIGHTS
from intake.store.models import Case, Message
from intake.store.timezone import BRUSSELS
from intake.web.context import (
    check_mailbox,
    db,
    language,
    now,
    render,
    require,
    settings,
    visible_mailboxes,
)
from intake.web.worklist import BUCKETS, Filters, build_worklist

STATUSES = ("open", "awaiting_identity", "to_classify")
OUTCOMES = ("answered", "refused", "withdrawn", "forwarded")
PROOFS = ("id_copy", "verified_signature")
LISTED = ("list_only", "robot")


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def worklist(request: Request) -> Response:
    user = require(request)
    q = request.query_params
    allowed = visible_mailboxes(request, user)
    try:
        page = int(q.get("page", "1"))
    except ValueError:
        page = 1
    filters = Filters(
        mailbox=q.get("mailbox", "") if q.get("mailbox") in allowed else "",
        status=q.get("status", "") if q.get("status") in STATUSES else "",
        right=q.get("right", "") if q.get("right") in RIGHTS else "",
        assignee=q.get("assignee", "")[:120], due_before=_day(q.get("due_before")),
        needs_review=q.get("needs_review") == "1", q=q.get("q", "")[:200], page=page,
    )
    today = now(request).astimezone(BRUSSELS).date()
    with db(request) as session:
        result = build_worklist(session, settings(request), allowed, filters, today)
    groups = [(b, [r for r in result.rows if r.bucket == b]) for b in BUCKETS]
    query = {k: v for k, v in q.items() if k != "page"}
    return render(request, "worklist.html", result=result, groups=groups, filters=filters,
                  mailboxes=allowed, statuses=STATUSES, rights=RIGHTS, query=query,
                  due_within=settings(request).digest.due_within_days)


def case_page(request: Request) -> Response:
    user = require(request)
    reference = request.path_params["reference"]
    handler = user.can("handler")
    with db(request) as session:
        detail = case_detail(session, reference, bodies=handler)
        if detail is None:
            raise HTTPException(404)
        check_mailbox(user, detail["mailbox"])
    for item in detail["outbox"]:  # the reply's text (case_detail read it): handlers only
        item["text"] = item.get("text", "") if handler else ""
    mailbox = next((m for m in settings(request).mailboxes if m.key == detail["mailbox"]), None)
    return render(request, "case.html", case=detail, handler=handler, rights=RIGHTS,
                  outcomes=OUTCOMES, proofs=PROOFS,
                  today=now(request).astimezone(BRUSSELS).date().isoformat(),
                  identity_required=mailbox.identity_required_for if mailbox else ())


def message_page(request: Request) -> Response:
    """One message's text: handlers only (a viewer sees lists, never bodies)."""
    user = require(request, "handler")
    with db(request) as session:
        message = session.get(Message, request.path_params["message_id"])
        if message is None:
            raise HTTPException(404)
        check_mailbox(user, message.mailbox_key)
        reference = message.case.reference if message.case else None
        view = {"id": message.id, "from": message.from_address, "name": message.from_name,
                "subject": message.subject, "received": message.received_at,
                "body": message.body_text or "", "mailbox": message.mailbox_key,
                "reference": reference, "triage": message.triage or {}}
    return render(request, "message.html", message=view)


def _listed_reason(m: Message) -> str:
    explanation = [str(e) for e in (m.triage or {}).get("explanation") or ()]
    for prefix in ("no case: ", "fail-safe: ", "guard: "):
        found = [e for e in explanation if e.startswith(prefix)]
        if found:
            return found[0]
    return f"disposition: {m.disposition}" if m.disposition else (m.kind or "")


def listed(request: Request) -> Response:
    user = require(request)
    allowed = visible_mailboxes(request, user)
    with db(request) as session:
        rows = [
            {"id": m.id, "mailbox": m.mailbox_key, "received": m.received_at,
             "from": m.from_address, "name": m.from_name, "subject": m.subject,
             "disposition": m.disposition, "reason": _listed_reason(m)}
            for m in session.scalars(
                select(Message).where(Message.case_id.is_(None), Message.status == "processed",
                                      Message.disposition.in_(LISTED),
                                      Message.mailbox_key.in_(allowed))
                .order_by(Message.received_at.desc(), Message.id.desc()).limit(200))
        ]
    return render(request, "listed.html", rows=rows, rights=RIGHTS)


REGISTER_PAGE = 200  # rows a page: page 1 the newest, page 2 the ones before; the CSV has all
CSV_BATCH = 2000  # register rows per chunk of the streamed CSV


def _register_where(request: Request, boxes: list[str], start: date | None,
                    end: date | None) -> list:
    every = set(boxes) == {m.key for m in settings(request).mailboxes}
    # Everything: also the cases of a mailbox no longer configured, as the CLI export has them.
    return register_filter(start, end, mailboxes=None if every else boxes)


def register_page(request: Request) -> Response:
    user = require(request)
    allowed = visible_mailboxes(request, user)
    q = request.query_params
    start, end = _day(q.get("from")), _day(q.get("to"))
    mailbox = q.get("mailbox") if q.get("mailbox") in allowed else None
    where = _register_where(request, [mailbox] if mailbox else allowed, start, end)
    if request.url.path.endswith(".csv"):
        return StreamingResponse(_register_csv(request, where),
                                 media_type="text/csv; charset=utf-8", headers={
                                     "content-disposition": 'attachment; filename="register.csv"'})
    try:
        page = max(1, int(q.get("page", "1")))
    except ValueError:
        page = 1
    with db(request) as session:
        total = session.scalar(select(func.count()).select_from(Case).where(*where)) or 0
        pages = max(1, -(-total // REGISTER_PAGE))
        page = min(page, pages)
        # Oldest first on every page, as in the CSV; page 1 ends with the newest case.
        skip = max(0, total - page * REGISTER_PAGE)
        size = total - (page - 1) * REGISTER_PAGE - skip
        shown = select(Case.id).where(*where).order_by(Case.received_at, Case.id)
        rows = list(register_entries(session, settings(request), [
            Case.id.in_(shown.offset(skip).limit(size))])) if size > 0 else []
    query = {k: v for k, v in q.items() if k != "page"}
    return render(request, "register.html", rows=rows, total=total, mailboxes=allowed,
                  start=start, end=end, mailbox=mailbox or "", csv_query=urlencode(query),
                  page=page, pages=pages, query=query)


def _register_csv(request: Request, where: list):
    """The register as CSV, streamed CSV_BATCH rows at a time (every row the person may see).

    A sync generator: Starlette runs it in its thread pool, one chunk at a time.
    """
    with db(request) as session:
        yield from csv_chunks(register_csv_lines(session, settings(request), where), CSV_BATCH)


DIGEST_SECONDS = 30


def digest_page(request: Request) -> Response:
    from intake.digest import ALL, collect_digest
    from intake.digest.render import digest_view

    user = require(request)
    allowed = visible_mailboxes(request, user)
    every = len(allowed) == len(settings(request).mailboxes)
    wanted = request.query_params.get("scope") or (ALL if every else (allowed or [""])[0])
    if (wanted != ALL and wanted not in allowed) or (wanted == ALL and not every):
        raise HTTPException(403)
    # The digest reads every open case: kept DIGEST_SECONDS per scope and language, and
    # dropped at once when a person changes a case here (the worker's changes show within it).
    key = (wanted, language(request), now(request).astimezone(BRUSSELS).date())
    cache = request.app.state.digest_cache
    hit = cache.get(key)
    if hit is not None and hit[0] > monotonic():
        view = hit[1]
    else:
        with db(request) as session:
            digest = collect_digest(session, settings(request), wanted, now(request))
        view = digest_view(digest, language(request))
        cache[key] = (monotonic() + DIGEST_SECONDS, view)
    scopes = ([ALL] if every else []) + allowed
    return render(request, "digest.html", view=view, scopes=scopes, scope=wanted)


def settings_page(request: Request) -> Response:
    require(request, "admin")
    s = settings(request)
    view = {
        "source": s.source,
        "database": s.database.url.split("@")[-1] if "@" in s.database.url else s.database.url,
        "rules_dir": s.rules_dir, "model_dir": s.model_dir,
        "mailboxes": [(m.key, m.controller, m.address, m.reference_prefix) for m in s.mailboxes],
        "web": {"base_url": s.web.base_url, "oidc_issuer": s.web.oidc_issuer,
                "oidc_client_id": s.web.oidc_client_id, "roles_claim": s.web.roles_claim,
                "users": [(u.login, u.role, ", ".join(u.mailboxes) or "*")
                          for u in s.web.users]},
        "digest": s.digest, "reminders": s.reminders,
    }
    return render(request, "settings.html", view=view, rules=request.session.pop("rules", None))
