"""Outgoing mail: acknowledgement rendering and the SMTP / file transports."""

from intake.outbound.render import ReplyContext, render_acknowledgement, reply_languages
from intake.outbound.transport import (
    FileTransport,
    SmtpTransport,
    TransportError,
    open_transport,
)

__all__ = [
    "FileTransport",
    "ReplyContext",
    "SmtpTransport",
    "TransportError",
    "open_transport",
    "render_acknowledgement",
    "reply_languages",
]
