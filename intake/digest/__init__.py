"""Staff digests: what needs the DPO team, most urgent first, by mail once per scope and day."""

from intake.digest.collect import ALL, Digest, DigestLine, Section, collect_digest
from intake.digest.queue import DigestOutcome, queue_digests, record_heartbeat
from intake.digest.render import render_digest

__all__ = [
    "ALL",
    "Digest",
    "DigestLine",
    "DigestOutcome",
    "Section",
    "collect_digest",
    "queue_digests",
    "record_heartbeat",
    "render_digest",
]
