"""The overdue alert: one short text mail to staff about one case whose due date has passed."""

from __future__ import annotations

from datetime import date, datetime

from intake.config import MailboxSettings
from intake.outbound.staffmail import StaffMail, build_staff_mail, staff_message_id
from intake.outbound.stafftemplates import (
    plural,
    requester_text,
    safe_text,
    staff_words,
    text_environment,
)
from intake.store.models import Case
from intake.store.timezone import BRUSSELS


def build_overdue_alert(case: Case, mailbox: MailboxSettings, recipient: str, today: date,
                        language: str, now: datetime) -> StaffMail:
    """The alert for `case` on `today`; its Message-ID is fixed by case, day and recipient."""
    assert case.due_date is not None
    words = staff_words(language)
    values = {
        "reference": case.reference,
        "controller": mailbox.controller,
        "requester": requester_text(case.requester_name, case.requester_address),
        "rights": ", ".join(words["rights"].get(r, r) for r in case.right_names) or "-",
        "received": case.received_at.astimezone(BRUSSELS).date().isoformat(),
        "due": case.due_date.isoformat(),
        "late": plural((today - case.due_date).days, "day", language),
        "status": words["statuses"].get(case.status, case.status),
        "extended": case.extended,
        "assignee": safe_text(case.assignee) if case.assignee else None,
    }
    text = text_environment().get_template(f"{language}/overdue-alert.txt").render(values)
    subject = words["alert_subject"].format(reference=case.reference, due=values["due"])
    return build_staff_mail(
        sender=mailbox.address, sender_name=f"DPO Intake – {mailbox.controller}",
        recipient=recipient, subject=subject, text=text, html=None,
        message_id=staff_message_id("overdue", f"{case.reference}.{today.isoformat()}",
                                    recipient, mailbox.address),
        language=language, now=now,
    )
