"""The forms staff post: every case operation of the CLI, the same checks, the same audit event.

Each action runs in one transaction like `intake cases …` (cli/cases.py `_change`): the case is
found, the operation checks and changes, the signed-in person is the actor. A refused extension
is committed (its `extension_refused` event is part of the trail) and then shown in words.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from intake.cases import operations as ops
from intake.cases.workflow import WorkflowError
from intake.config import ConfigError
from intake.rights import RIGHTS
from intake.store.models import Message
from intake.store.timezone import BRUSSELS
from intake.web import adapters
from intake.web.context import (
    back_to,
    check_mailbox,
    db,
    flash,
    language,
    now,
    render,
    require,
    settings,
    visible_mailboxes,
)
from intake.web.i18n import long_date, words
from intake.web.pages import OUTCOMES, PROOFS
from intake.web.security import checked_form

Operation = Callable[..., tuple[str, dict[str, Any]]]
MAX_SCAN = 20 * 1024 * 1024


def _text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def _op_assign(form: FormData) -> Operation:
    def op(session, case, _mailbox, actor, _now) -> str:
        ops.assign(session, case, _text(form, "person", 200), actor)
        return "assigned", {"who": case.assignee}
    return op


def _op_note(form: FormData) -> Operation:
    def op(session, case, _mailbox, actor, _now) -> str:
        ops.add_note(session, case, _text(form, "text"), actor)
        return "note", {}
    return op


def _op_reclassify(form: FormData) -> Operation:
    def op(session, case, mailbox, actor, now) -> str:
        chosen = [r for r in form.getlist("rights") if isinstance(r, str)]
        rights = ops.parse_rights(chosen)
        no_case = form.get("no_case") == "1"
        if no_case and rights:
            raise WorkflowError("\"no case\" goes without rights")
        adapters.reclassify(session, case, mailbox, rights, actor, now,
                            _text(form, "reason", 300), no_case)
        if no_case:
            return "no_case", {}
        return "reclassified", {"rights": rights, "kind": case.kind}
    return op


def _op_identity(form: FormData) -> Operation:
    def op(session, case, mailbox, actor, now) -> str:
        on_text = _text(form, "on", 20)
        try:
            on = date.fromisoformat(on_text) if on_text else ops.brussels_day(now)
        except ValueError:
            raise WorkflowError(f"{on_text!r} is not a date") from None
        status = _text(form, "status", 40) or "id_copy"
        if status not in PROOFS:
            raise WorkflowError(f"status must be one of {', '.join(PROOFS)}")
        item = ops.receive_identity(session, case, mailbox, on, _text(form, "received", 300),
                                    actor, now, status=status)
        if item is None:
            return "identity_noted", {}
        return "identity_resumed", {"due": case.due_date}
    return op


def _op_extend(form: FormData) -> Operation:
    def op(session, case, mailbox, actor, now) -> str:
        reasons = _text(form, "reason")
        if not reasons:
            raise WorkflowError("give the reasons for the extension (they go to the requester)")
        due, _item = ops.extend_case(session, case, mailbox, reasons, actor, now)
        return "extended", {"due": due}
    return op


def _op_close(form: FormData) -> Operation:
    def op(session, case, _mailbox, actor, now) -> str:
        outcome = _text(form, "outcome", 20)
        if outcome not in OUTCOMES:
            raise WorkflowError(f"choose an outcome: {', '.join(OUTCOMES)}")
        ops.close_case(session, case, outcome, _text(form, "reason"), actor, now)
        return "closed", {"outcome": outcome, "date": case.answered_on}
    return op


def _op_reopen(form: FormData) -> Operation:
    def op(session, case, _mailbox, actor, _now) -> str:
        ops.reopen(session, case, _text(form, "reason"), actor)
        return "reopened", {}
    return op


OPERATIONS: dict[str, Callable[[FormData], Operation]] = {
    "assign": _op_assign, "note": _op_note, "reclassify": _op_reclassify,
    "identity": _op_identity, "extend": _op_extend, "close": _op_close, "reopen": _op_reopen,
}


async def case_action(request: Request) -> Response:
    user = require(request, "handler")
    form = await checked_form(request)
    name = request.path_params["action"]
    if name not in OPERATIONS:
        raise HTTPException(404)
    operation = OPERATIONS[name](form)
    t = words(language(request))
    reference = request.path_params["reference"]
    moment = now(request)
    refused: ops.ExtensionRefused | None = None
    report: tuple[str, dict[str, Any]] = ("note", {})
    with db(request) as session:
        try:
            with session.begin():
                try:
                    case = ops.find_case(session, reference)
                except ops.CaseNotFound:
                    raise HTTPException(404) from None
                check_mailbox(user, case.mailbox_key)
                reference = case.reference
                mailbox = settings(request).mailbox(case.mailbox_key)
                try:
                    report = operation(session, case, mailbox, user.actor, moment)
                except ops.ExtensionRefused as exc:
                    refused = exc  # commit the `extension_refused` event, then say why
        except adapters.Unavailable as exc:
            flash(request, "error", t["unavailable"].format(what=exc))
            return back_to(f"/cases/{reference}")
        except (WorkflowError, ConfigError) as exc:
            flash(request, "error", t["refused"].format(why=str(exc)))
            return back_to(f"/cases/{reference}")
    request.app.state.digest_cache.clear()
    if refused is not None:
        flash(request, "error", t["refused"].format(why=str(refused)))
    else:
        flash(request, "ok", t["done"].format(what=_report(report, language(request))))
    return back_to(f"/cases/{reference}")


def _report(report: tuple[str, dict[str, Any]], lang: str) -> str:
    """What an operation did, in the page's language."""
    key, values = report
    t = words(lang)
    shown = {}
    for name, value in values.items():
        if isinstance(value, date):
            shown[name] = long_date(value, lang)
        elif name == "rights":
            shown[name] = ", ".join(t["rights"].get(r, r) for r in value) or t["question"]
        elif name == "outcome":
            shown[name] = t["outcomes"].get(value, value)
        elif name == "due" and value is None:
            shown[name] = t["reports"]["after_identity"]
        else:
            shown[name] = value
    return t["reports"][key].format(**shown)


# --- new cases --------------------------------------------------------------------------------

CHANNELS = ("post", "phone", "counter")
KINDS = ("request", "question")


async def new_case_form(request: Request) -> Response:
    user = require(request, "handler")
    return _new_case_page(request, user, {}, None)


def _new_case_page(request: Request, user, values: dict, error: str | None,
                   status: int = 200) -> Response:
    today = now(request).astimezone(BRUSSELS).date().isoformat()
    return render(request, "new_case.html", status_code=status, values=values, error=error,
                  mailboxes=visible_mailboxes(request, user), channels=CHANNELS, kinds=KINDS,
                  rights=RIGHTS, today=today)


async def new_case(request: Request) -> Response:
    user = require(request, "handler")
    form = await checked_form(request)
    t = words(language(request))
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    values["rights"] = [r for r in form.getlist("rights") if isinstance(r, str)]
    try:
        parsed = await _manual_case(request, user, form)
    except WorkflowError as exc:  # a right that is not a right: the operation's words
        return _new_case_page(request, user, values, t["refused"].format(why=str(exc)), 422)
    except ValueError as exc:
        why = t["form_errors"].get(str(exc), str(exc))
        return _new_case_page(request, user, values, t["invalid"].format(why=why), 422)
    with db(request) as session:
        try:
            with session.begin():
                mailbox = settings(request).mailbox(parsed.mailbox)
                case = adapters.open_manual_case(session, settings(request), mailbox, parsed,
                                                 user.actor, now(request))
                reference = case.reference
        except adapters.Unavailable as exc:
            return _new_case_page(request, user, values, t["unavailable"].format(what=exc), 501)
        except (WorkflowError, ConfigError) as exc:
            return _new_case_page(request, user, values, t["refused"].format(why=str(exc)), 422)
    request.app.state.digest_cache.clear()
    flash(request, "ok", t["done"].format(what=reference))
    return back_to(f"/cases/{reference}")


async def _manual_case(request: Request, user, form: FormData) -> adapters.ManualCase:
    """The form checked field by field; ValueError's text is the key of what is wrong
    (form_errors in the catalogue). A right that is not a right is the operation's own error."""
    mailbox = _text(form, "mailbox", 40)
    if mailbox not in visible_mailboxes(request, user):
        raise ValueError("mailbox")
    channel = _text(form, "channel", 20)
    if channel not in CHANNELS:
        raise ValueError("channel")
    kind = _text(form, "kind", 20) or "request"
    if kind not in KINDS:
        raise ValueError("kind")
    try:
        day = date.fromisoformat(_text(form, "received", 20))
    except ValueError:
        raise ValueError("received") from None
    moment = now(request)
    if day > moment.astimezone(BRUSSELS).date():
        raise ValueError("future")
    # A letter has a day, not a time: noon of that day, or now when that is still to come.
    received = min(datetime.combine(day, time(12, 0), tzinfo=BRUSSELS), moment)
    name = _text(form, "requester_name", 200)
    if not name:
        raise ValueError("name")
    address = _text(form, "requester_address", 320).lower()
    if address and ("@" not in address or " " in address):
        raise ValueError("address")
    rights = tuple(ops.parse_rights([r for r in form.getlist("rights") if isinstance(r, str)])
                   ) if form.getlist("rights") else ()
    if kind == "request" and not rights:
        raise ValueError("rights")
    if kind == "question":
        rights = ()
    acknowledge = form.get("acknowledge") == "1"
    if acknowledge and not address:
        raise ValueError("ack")
    scan_name, scan = "", b""
    upload = form.get("scan")
    if isinstance(upload, UploadFile) and upload.filename:
        scan = await upload.read(MAX_SCAN + 1)
        await upload.close()
        if len(scan) > MAX_SCAN:
            raise ValueError("scan")
        scan_name = upload.filename[-100:]
    return adapters.ManualCase(
        mailbox=mailbox, channel=channel, received=received, requester_name=name,
        requester_address=address, kind=kind, rights=rights,
        description=_text(form, "description", 300), acknowledge=acknowledge,
        language=_text(form, "language", 2) or "nl", scan_name=scan_name, scan=scan)


async def open_from_message(request: Request) -> Response:
    """"Open a case" from listed mail."""
    user = require(request, "handler")
    form = await checked_form(request)
    t = words(language(request))
    with db(request) as session:
        try:
            rights = tuple(ops.parse_rights([r for r in form.getlist("rights")
                                             if isinstance(r, str)]))
            kind = "request" if rights else "question"
            with session.begin():
                message = session.scalars(select(Message).where(
                    Message.id == request.path_params["message_id"])).first()
                if message is None:
                    raise HTTPException(404)
                check_mailbox(user, message.mailbox_key)
                if message.case_id is not None:
                    raise WorkflowError("this message already belongs to a case")
                mailbox = settings(request).mailbox(message.mailbox_key)
                case = adapters.open_case_from_message(
                    session, mailbox, message, kind, rights, user.actor, now(request),
                    _text(form, "reason", 300))
                reference = case.reference
        except adapters.Unavailable as exc:
            flash(request, "error", t["unavailable"].format(what=exc))
            return back_to("/listed")
        except (WorkflowError, ConfigError) as exc:
            flash(request, "error", t["refused"].format(why=str(exc)))
            return back_to("/listed")
    request.app.state.digest_cache.clear()
    flash(request, "ok", t["done"].format(what=reference))
    return back_to(f"/cases/{reference}")


async def rules_reload(request: Request) -> Response:
    """Admin: check the rules directory; the worker reloads changed rule files by itself."""
    from intake.classify.lint import lint_rules

    require(request, "admin")
    await checked_form(request)
    directory = settings(request).rules_dir
    problems = lint_rules(directory)
    errors = [str(p) for p in problems if p.severity == "error"]
    request.session["rules"] = {
        "ok": not errors, "errors": errors[:20],
        "summary": f"{directory}: {len(errors)} error(s), {len(problems) - len(errors)} "
                   "warning(s)"}
    return back_to("/settings")
