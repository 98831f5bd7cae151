"""Settings: one TOML file becomes validated, immutable objects; secrets are only named here."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from intake.rights import LANGUAGES, RIGHTS
from intake.store.timezone import BRUSSELS

DEFAULT_CONFIG_PATH = Path("/etc/dpo-intake/intake.toml")
PACKAGE_ROOT = Path(__file__).resolve().parent
DEFAULT_RULES_DIR = PACKAGE_ROOT.parent / "rules"
DEFAULT_MODEL_DIR = PACKAGE_ROOT.parent / "models" / "build"
DEFAULT_IDENTITY_RIGHTS = (
    "access",
    "rectification",
    "erasure",
    "restriction",
    "objection",
    "portability",
)
_DAY_RE = re.compile(r"^(\d{4}-)?\d{2}-\d{2}$")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


class ConfigError(ValueError):
    """A settings problem, phrased as: file, key, what is wrong.

    When a file has several problems, `problems` holds every one (this error is the first).
    """

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"{source}: {key}: {problem}")
        self.source, self.key, self.problem = source, key, problem
        self.problems: list[ConfigError] = [self]


@dataclass(frozen=True)
class Secret:
    """Where a secret lives: an environment variable or a systemd credential file."""

    env: str | None = None
    credential: str | None = None

    @property
    def configured(self) -> bool:
        return bool(self.env or self.credential)

    def describe(self) -> str:
        if self.credential:
            return f"credential {self.credential}"
        return f"env {self.env}" if self.env else "none"

    def resolve(self) -> str | None:
        """The secret's value, read now (never cached in the settings object)."""
        if self.credential:
            directory = os.environ.get("CREDENTIALS_DIRECTORY")
            if not directory:
                raise ConfigError(
                    "environment",
                    "CREDENTIALS_DIRECTORY",
                    f"credential {self.credential!r} is configured but systemd set no credentials "
                    "directory",
                )
            path = Path(directory) / self.credential
            try:
                return path.read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(
                    "environment", str(path), f"cannot read credential: {exc.strerror}"
                ) from None
        if self.env:
            value = os.environ.get(self.env)
            if value is None:
                raise ConfigError("environment", self.env, "environment variable is not set")
            return value
        return None


MICROSOFT_AUTHORITY = "https://login.microsoftonline.com/{tenant}"
EXCHANGE_SCOPE = "https://outlook.office365.com/.default"


@dataclass(frozen=True)
class OAuth2Settings:
    """App-only OAuth2 (client credentials), e.g. an Exchange Online service principal."""

    tenant: str
    client_id: str
    client_secret: Secret = field(default_factory=Secret)
    certificate: Secret = field(default_factory=Secret)  # the private key (PEM)
    certificate_thumbprint: str = ""  # SHA-1 of the certificate, hex
    authority: str = ""  # empty: MICROSOFT_AUTHORITY for the tenant
    scope: str = EXCHANGE_SCOPE
    authority_ca_file: str = ""  # a private CA for the authority (tests); empty: system trust

    @property
    def authority_url(self) -> str:
        return (self.authority or MICROSOFT_AUTHORITY).format(tenant=self.tenant).rstrip("/")

    def describe(self) -> str:
        how = (
            f"certificate {self.certificate.describe()} thumbprint {self.certificate_thumbprint}"
            if self.certificate.configured
            else f"secret {self.client_secret.describe()}"
        )
        return f"oauth2 client {self.client_id} at {self.authority_url}, {how}"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = "sqlite:///var/lib/dpo-intake/intake.db"


@dataclass(frozen=True)
class SmtpSettings:
    transport: str = "file"  # smtp | file
    host: str = "localhost"
    port: int = 587
    tls: str = "starttls"  # starttls | implicit | none
    allow_plaintext: bool = False
    ca_file: str = ""
    username: str = ""
    password: Secret = field(default_factory=Secret)
    file_dir: str = "var/sent"
    auth: str = "password"  # password | oauth2 (XOAUTH2, username is the address to log in as)
    oauth2: OAuth2Settings | None = None
    timeout: float = 30.0
    max_attempts: int = 8
    replies_per_sender_per_day: int = 5


@dataclass(frozen=True)
class TrustSettings:
    anchors_dir: str = "/etc/dpo-intake/trust"


@dataclass(frozen=True)
class IdentitySettings:
    """How identity evidence is read: OCR of ID copies and the salt of national-number hashes."""

    ocr: bool = True  # read image and PDF attachments with Tesseract
    # Key for the salted hash kept instead of a national number (HMAC-SHA256). Unset: numbers
    # are only masked, never hashed.
    number_salt: Secret = field(default_factory=lambda: Secret())
    # Attachments are decoded in a child process with these hard limits (per attachment, and
    # for all attachments of one message); over a limit: "not examined: limit reached".
    sandbox: bool = True
    sandbox_memory_mb: int = 320
    sandbox_cpu_seconds: int = 15
    sandbox_wall_seconds: float = 18.0
    sandbox_message_seconds: float = 22.0


@dataclass(frozen=True)
class DigestSettings:
    """Staff digests: when, to whom, and what counts as soon."""

    schedule: str = "0 8 * * mon-fri"  # crontab fields, Europe/Brussels
    combined: bool = False  # one digest for all mailboxes instead of one per mailbox
    to: tuple[str, ...] = ()  # staff addresses for every mailbox (a mailbox may add its own)
    due_within_days: int = 7
    send_empty: bool = False
    language: str = "nl"


@dataclass(frozen=True)
class ReminderSettings:
    """The daily deadline check: what it flags, and the alert mail for overdue cases."""

    schedule: str = "0 7 * * *"
    extension_window_working_days: int = 5
    due_within_working_days: int = 3
    alert_overdue: bool = True


@dataclass(frozen=True)
class RetentionSettings:
    """The daily purge of cases past their mailbox's retention period."""

    schedule: str = "30 2 * * *"


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int = 993
    tls: str = "implicit"
    allow_plaintext: bool = False
    ca_file: str = ""
    username: str = ""
    password: Secret = field(default_factory=Secret)
    folder: str = "INBOX"
    after: str = "flag"  # flag | move
    move_to: str = "Verwerkt"
    quarantine_to: str = ""  # empty: flag $DPOQuarantine in place
    timeout: float = 60.0
    auth: str = "password"  # password | oauth2 (XOAUTH2, username is the mailbox to log in as)
    oauth2: OAuth2Settings | None = None
    # Where copies of sent replies go ("Verzonden items", "Sent Items"); "server": the SMTP server
    # already saves what was submitted through it; empty: no copies.
    sent_folder: str = ""


@dataclass(frozen=True)
class MaildirSettings:
    path: str
    after: str = "flag"
    move_to: str = "Verwerkt"


@dataclass(frozen=True)
class MailboxSettings:
    key: str
    controller: str
    address: str
    reference_prefix: str
    reply_languages: tuple[str, ...] = ("nl",)
    extra_holidays: tuple[str, ...] = ("07-11",)
    identity_required_for: tuple[str, ...] = DEFAULT_IDENTITY_RIGHTS
    retention_years: int = 5
    dpo_contact: str = ""
    question_service_days: int = 30
    staff: tuple[str, ...] = ()  # staff addresses of this mailbox (besides [digest] to)
    imap: ImapSettings | None = None
    maildir: MaildirSettings | None = None

    @property
    def source_kind(self) -> str:
        return "imap" if self.imap else "maildir"


@dataclass(frozen=True)
class RunSettings:
    poll_seconds: int = 60
    outbox_seconds: int = 30
    state_dir: str = "var"
    # This many failed passes in a row make a mailbox "degraded" (status, log error, digest).
    failures_degraded: int = 3
    # A pass running longer than this is stuck: the systemd watchdog pings stop (restart).
    stuck_poll_seconds: int = 900
    # A message whose triage runs longer ends the worker (its restart then counts the attempt).
    triage_deadline_seconds: int = 900
    idle: bool = True  # IMAP IDLE wakes a mailbox's poll when mail arrives (if the server can)


@dataclass(frozen=True)
class MetricsSettings:
    """Prometheus metrics: an HTTP endpoint, or a file for node-exporter's textfile collector."""

    listen: str = ""  # "127.0.0.1:9468"; empty: no endpoint
    textfile: str = ""  # e.g. /var/lib/prometheus/node-exporter/dpo_intake.prom; empty: none


@dataclass(frozen=True)
class Settings:
    source: str
    database: DatabaseSettings
    smtp: SmtpSettings
    trust: TrustSettings
    run: RunSettings
    mailboxes: tuple[MailboxSettings, ...]
    rules_dir: str = str(DEFAULT_RULES_DIR)
    model_dir: str = str(DEFAULT_MODEL_DIR)
    own_addresses: tuple[str, ...] = ()
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    digest: DigestSettings = field(default_factory=DigestSettings)
    reminders: ReminderSettings = field(default_factory=ReminderSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    web: WebSettings = field(default_factory=lambda: WebSettings())

    def staff_for(self, mailbox_key: str) -> tuple[str, ...]:
        """Who receives the digest and alerts of one mailbox: [digest] to plus its own staff."""
        own = self.mailbox(mailbox_key).staff
        return tuple(dict.fromkeys((*self.digest.to, *own)))

    def mailbox(self, key: str) -> MailboxSettings:
        for mailbox in self.mailboxes:
            if mailbox.key == key:
                return mailbox
        known = ", ".join(m.key for m in self.mailboxes) or "none"
        raise ConfigError(self.source, "mailbox", f"no mailbox with key {key!r} (known: {known})")

    @property
    def all_own_addresses(self) -> tuple[str, ...]:
        """Addresses we send from or receive at: never replied to."""
        found = {m.address.lower() for m in self.mailboxes} | {
            a.lower() for a in self.own_addresses
        }
        # The accounts we log in with are ours too, when they are addresses (issue 13).
        logins = [m.imap.username for m in self.mailboxes if m.imap] + [self.smtp.username]
        found |= {a.strip().lower() for a in logins if a and "@" in a}
        return tuple(sorted(found))


def default_settings() -> Settings:
    """Settings with no file: bundled rules, default calendar, no mailboxes."""
    return Settings(
        source="<defaults>",
        database=DatabaseSettings(),
        smtp=SmtpSettings(),
        trust=TrustSettings(),
        run=RunSettings(),
        mailboxes=(),
    )


def config_path_from(cli_value: str | None) -> Path | None:
    """--config, else $INTAKE_CONFIG, else /etc/dpo-intake/intake.toml if it exists."""
    if cli_value:
        return Path(cli_value)
    if os.environ.get("INTAKE_CONFIG"):
        return Path(os.environ["INTAKE_CONFIG"])
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None


def load_settings(path: str | Path) -> Settings:
    """Read and validate a settings file; raises ConfigError naming the file and key."""
    path = Path(path)
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(source, "-", "file not found") from None
    except OSError as exc:
        raise ConfigError(source, "-", f"cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, "-", f"not valid TOML: {exc}") from None
    return parse_settings(data, source, base_dir=path.parent)


def parse_settings(data: dict[str, Any], source: str, base_dir: Path | None = None) -> Settings:
    """Validate a decoded TOML document; every problem is found before one is raised."""
    problems: list[ConfigError] = []
    try:
        settings = _parse_settings(_Reader(data, source, "", problems), base_dir)
    except ConfigError as exc:  # a problem the parse could not go on after
        problems.append(exc)
        settings = None
    if problems:
        first = problems[0]
        first.problems = problems
        raise first
    assert settings is not None
    return settings


def _parse_settings(r: _Reader, base_dir: Path | None) -> Settings:
    r.allow(
        "database", "smtp", "trust", "mailbox", "run", "rules", "own_addresses", "model",
        "identity", "digest", "reminders", "retention", "metrics", "web",
    )
    base = base_dir or Path.cwd()

    db = r.table("database")
    database = DatabaseSettings(url=_sqlite_relative(_database_url(db), base))
    db.done()

    s = r.table("smtp")
    smtp = SmtpSettings(
        transport=s.choice("transport", ("smtp", "file"), "file"),
        host=s.str("host", "localhost"),
        port=s.port("port", 587),
        tls=s.choice("tls", ("starttls", "implicit", "none"), "starttls"),
        allow_plaintext=s.bool("allow_plaintext", False),
        ca_file=_relative(s.str("ca_file", ""), base),
        username=s.str("username", ""),
        password=s.secret("password"),
        file_dir=_relative(s.str("file_dir", "var/sent"), base),
        timeout=s.number("timeout", 30.0),
        max_attempts=s.int("max_attempts", 8, minimum=1),
        replies_per_sender_per_day=s.int("replies_per_sender_per_day",
                                         SmtpSettings.replies_per_sender_per_day, minimum=1),
        auth=s.choice("auth", ("password", "oauth2"), "password"),
        oauth2=_oauth2(s, base),
    )
    if smtp.auth == "oauth2" and not smtp.username:
        s.fail("username", "auth = \"oauth2\" needs the address to log in as (username)")
    if smtp.auth == "oauth2" and smtp.password.configured:
        s.fail("password_env", "auth = \"oauth2\" uses no password: remove it")
    if smtp.transport == "smtp" and smtp.tls == "none" and not smtp.allow_plaintext:
        s.fail("tls", '"none" sends the password in clear: set allow_plaintext = true to accept')
    s.done()

    t = r.table("trust")
    trust = TrustSettings(
        anchors_dir=_relative(t.str("anchors_dir", TrustSettings.anchors_dir), base)
    )
    t.done()

    rn = r.table("run")
    run = RunSettings(
        poll_seconds=rn.int("poll_seconds", 60, minimum=1),
        outbox_seconds=rn.int("outbox_seconds", 30, minimum=1),
        state_dir=_relative(rn.str("state_dir", "var"), base),
        failures_degraded=rn.int("failures_degraded", RunSettings.failures_degraded, minimum=1),
        stuck_poll_seconds=rn.int("stuck_poll_seconds", RunSettings.stuck_poll_seconds,
                                  minimum=1),
        triage_deadline_seconds=rn.int("triage_deadline_seconds", 900, minimum=0),
        idle=rn.bool("idle", True),
    )
    rn.done()

    mt = r.table("metrics")
    metrics = MetricsSettings(
        listen=_listen(mt, "listen"),
        textfile=_relative(mt.str("textfile", ""), base),
    )
    mt.done()

    rules = r.table("rules")
    rules_dir = _relative(rules.str("dir", str(DEFAULT_RULES_DIR)), base)
    rules.done()

    mo = r.table("model")
    model_dir = _relative(mo.str("dir", str(DEFAULT_MODEL_DIR)), base)
    mo.done()

    idt = r.table("identity")
    identity = IdentitySettings(
        ocr=idt.bool("ocr", True), number_salt=idt.secret("number_salt"),
        sandbox=idt.bool("sandbox", True),
        sandbox_memory_mb=idt.int("sandbox_memory_mb", 320, minimum=128),
        sandbox_cpu_seconds=idt.int("sandbox_cpu_seconds", 15, minimum=1),
        sandbox_wall_seconds=idt.number("sandbox_wall_seconds", 18.0),
        sandbox_message_seconds=idt.number("sandbox_message_seconds", 22.0))
    idt.done()

    dg = r.table("digest")
    digest = DigestSettings(
        schedule=_crontab(dg, "schedule", DigestSettings.schedule),
        combined=dg.bool("combined", False),
        to=_addresses(dg, "to"),
        due_within_days=dg.int("due_within_days", 7, minimum=1),
        send_empty=dg.bool("send_empty", False),
        language=dg.choice("language", LANGUAGES, "nl"),
    )
    dg.done()

    rm = r.table("reminders")
    reminders = ReminderSettings(
        schedule=_crontab(rm, "schedule", ReminderSettings.schedule),
        extension_window_working_days=rm.int("extension_window_working_days", 5, minimum=1),
        due_within_working_days=rm.int("due_within_working_days", 3, minimum=1),
        alert_overdue=rm.bool("alert_overdue", True),
    )
    rm.done()

    rt = r.table("retention")
    retention = RetentionSettings(schedule=_crontab(rt, "schedule", RetentionSettings.schedule))
    rt.done()

    mailboxes = tuple(_mailbox(m, base) for m in r.table_list("mailbox"))
    keys = [m.key for m in mailboxes]
    for key in keys:
        if keys.count(key) > 1:
            r.fail("mailbox", f"key {key!r} is used twice")
    prefixes = [m.reference_prefix for m in mailboxes]
    for prefix in prefixes:
        if prefixes.count(prefix) > 1:
            r.fail("mailbox", f"reference_prefix {prefix!r} is used twice")
    own = tuple(a.lower() for a in r.str_list("own_addresses", ()))
    return Settings(
        source=r.source,
        database=database,
        smtp=smtp,
        trust=trust,
        run=run,
        mailboxes=mailboxes,
        rules_dir=rules_dir,
        model_dir=model_dir,
        own_addresses=own,
        identity=identity,
        digest=digest,
        reminders=reminders,
        retention=retention,
        metrics=metrics,
        web=_web(r.table("web"), mailboxes),
    )


DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


def _database_url(r: _Reader) -> str:
    """A URL SQLAlchemy can open with the drivers we install: sqlite:/// or postgresql+psycopg://."""
    url = r.str("url", DatabaseSettings.url)
    scheme = url.partition("://")[0] if "://" in url else ""
    if scheme in ("postgres", "postgresql+psycopg2", "postgres+psycopg"):
        r.fail("url", f"scheme {scheme!r} does not work here: write postgresql+psycopg://"
               f"{url.partition('://')[2] and '…'}")
    elif scheme not in DATABASE_SCHEMES:
        r.fail("url", f"{url.split('@')[-1]!r} is not a database URL: use "
               "sqlite:////absolute/path.db or postgresql+psycopg://user@host/dbname")
    return url


def _listen(r: _Reader, name: str) -> str:
    """HOST:PORT for a local HTTP endpoint (empty: off)."""
    value = r.str(name, "")
    if value:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            r.fail(name, f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:9468)")
    return value


def _mailbox(m: _Reader, base: Path) -> MailboxSettings:
    key = m.str("key", required=True)
    if key and not _KEY_RE.match(key):
        m.fail("key", "use lower-case letters, digits, - or _ (at most 32)")
    address = m.str("address", required=True)
    if address and "@" not in address:
        m.fail("address", f"{address!r} is not an e-mail address")
    prefix = m.str("reference_prefix", required=True)
    if prefix and not re.fullmatch(r"[A-Z][A-Z0-9-]{1,20}", prefix):
        m.fail("reference_prefix", "use upper-case letters, digits and - (e.g. DPO-AGO)")
    languages = m.str_list("reply_languages", ("nl",))
    for lang in languages:
        if lang not in LANGUAGES:
            m.fail("reply_languages", f"{lang!r} is not one of {', '.join(LANGUAGES)}")
    if not languages:
        m.fail("reply_languages", "name at least one language")
    extra = m.str_list("extra_holidays", ("07-11",))
    for day in extra:
        if not _DAY_RE.match(day):
            m.fail("extra_holidays", f"{day!r} is neither MM-DD nor YYYY-MM-DD")
    needs_id = m.str_list("identity_required_for", DEFAULT_IDENTITY_RIGHTS)
    for right in needs_id:
        if right not in RIGHTS:
            m.fail("identity_required_for", f"{right!r} is not a right ({', '.join(RIGHTS)})")
    imap = maildir = None
    if m.has("imap"):
        i = m.table("imap")
        imap = ImapSettings(
            host=i.str("host", required=True),
            port=i.port("port", 993),
            tls=i.choice("tls", ("implicit", "starttls", "none"), "implicit"),
            allow_plaintext=i.bool("allow_plaintext", False),
            ca_file=_relative(i.str("ca_file", ""), base),
            username=i.str("username", address),
            password=i.secret("password"),
            folder=i.str("folder", "INBOX"),
            after=i.choice("after", ("flag", "move"), "flag"),
            move_to=i.str("move_to", "Verwerkt"),
            quarantine_to=i.str("quarantine_to", ""),
            timeout=i.number("timeout", 60.0),
            auth=i.choice("auth", ("password", "oauth2"), "password"),
            oauth2=_oauth2(i, base),
            sent_folder=i.str("sent_folder", ""),
        )
        if imap.tls == "none" and not imap.allow_plaintext:
            i.fail(
                "tls", '"none" sends the password in clear: set allow_plaintext = true to accept'
            )
        if imap.sent_folder and imap.sent_folder in (imap.folder, imap.quarantine_to):
            i.fail("sent_folder", "must not be the folder that is read or the quarantine")
        if imap.auth == "oauth2" and imap.password.configured:
            i.fail("password_env", 'auth = "oauth2" uses no password: remove it')
        if imap.auth == "password" and not imap.password.configured:
            i.fail(
                "password_env",
                "name the environment variable (or password_credential) "
                "that holds the IMAP password",
            )
        i.done()
    if m.has("maildir"):
        d = m.table("maildir")
        maildir = MaildirSettings(
            path=_relative(d.str("path", required=True), base),
            after=d.choice("after", ("flag", "move"), "flag"),
            move_to=d.str("move_to", "Verwerkt"),
        )
        d.done()
    if imap and maildir:
        m.fail("imap", "a mailbox has either [mailbox.imap] or [mailbox.maildir], not both")
    if not imap and not maildir:
        m.fail("imap", "a mailbox needs [mailbox.imap] or [mailbox.maildir]")
    settings = MailboxSettings(
        key=key,
        controller=m.str("controller", required=True),
        address=address.lower(),
        reference_prefix=prefix,
        reply_languages=tuple(languages),
        extra_holidays=tuple(extra),
        identity_required_for=tuple(needs_id),
        retention_years=m.int("retention_years", 5, minimum=1),
        dpo_contact=m.str("dpo_contact", address.lower()),
        question_service_days=m.int("question_service_days", MailboxSettings.question_service_days,
                                    minimum=1),
        staff=_addresses(m, "staff"),
        imap=imap,
        maildir=maildir,
    )
    m.done()
    return settings


_OAUTH2_KEYS = (
    "tenant", "client_id", "client_secret_env", "client_secret_credential", "certificate_env",
    "certificate_credential", "certificate_thumbprint", "authority", "scope", "authority_ca_file",
)


def _oauth2(r: _Reader, base: Path) -> OAuth2Settings | None:
    """The OAuth2 keys of an [smtp] or [mailbox.imap] table (only with auth = "oauth2")."""
    if r.data.get("auth", "password") != "oauth2":
        for name in _OAUTH2_KEYS:
            if name in r.data:
                r.fail(name, 'only used with auth = "oauth2"')
        return None
    tenant = r.str("tenant", required=True)
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,100}", tenant):
        r.fail("tenant", "the directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com")
    client_id = r.str("client_id", required=True)
    if not re.fullmatch(r"[A-Za-z0-9-]{1,100}", client_id):
        r.fail("client_id", "use the application (client) ID of the app registration")
    secret = r.secret("client_secret")
    certificate = r.secret("certificate")
    thumbprint = r.str("certificate_thumbprint", "").replace(":", "").lower()
    if secret.configured == certificate.configured:
        r.fail(
            "client_secret_env",
            "name either a client secret (client_secret_env / client_secret_credential) or a "
            "certificate (certificate_credential + certificate_thumbprint), not both or neither",
        )
    if certificate.configured and not re.fullmatch(r"[0-9a-f]{40}", thumbprint):
        r.fail("certificate_thumbprint", "the certificate's SHA-1 thumbprint: 40 hex digits")
    if thumbprint and not certificate.configured:
        r.fail("certificate_thumbprint", "only used with certificate_credential")
    authority = r.str("authority", "")
    if authority and not authority.startswith("https://"):
        r.fail("authority", "must be an https:// URL")
    scope = r.str("scope", EXCHANGE_SCOPE)
    if not scope.strip() or any(c.isspace() for c in scope):
        r.fail("scope", "one scope, e.g. https://outlook.office365.com/.default")
    return OAuth2Settings(
        tenant=tenant,
        client_id=client_id,
        client_secret=secret,
        certificate=certificate,
        certificate_thumbprint=thumbprint,
        authority=authority,
        scope=scope,
        authority_ca_file=_relative(r.str("authority_ca_file", ""), base),
    )


WEB_ROLES = ("viewer", "handler", "admin")


@dataclass(frozen=True)
class WebUser:
    """A local role mapping: who (e-mail or OIDC subject), which role, which mailboxes."""

    login: str
    role: str
    mailboxes: tuple[str, ...] = ()  # empty: every mailbox


@dataclass(frozen=True)
class WebSettings:
    """The staff web console: where it listens, its public URL, and the OIDC provider."""

    base_url: str = ""  # public URL behind the reverse proxy; the digest links cases to it
    host: str = "127.0.0.1"
    port: int = 8080
    language: str = "nl"
    secure_cookies: bool = True  # False only for plain-HTTP on 127.0.0.1 (tests, demo)
    session_secret: Secret = field(default_factory=lambda: Secret())
    session_hours: int = 10
    oidc_issuer: str = ""  # e.g. https://authenticatie.vlaanderen.be/op
    oidc_client_id: str = ""
    oidc_client_secret: Secret = field(default_factory=lambda: Secret())
    oidc_scope: str = "openid profile email"
    roles_claim: str = "roles"  # values "handler", "viewer:wse", "admin" ...
    name_claim: str = "name"
    users: tuple[WebUser, ...] = ()


def _web(w: _Reader, mailboxes: tuple[MailboxSettings, ...]) -> WebSettings:
    keys = {m.key for m in mailboxes}
    users = []
    for u in w.table_list("user"):
        boxes = u.str_list("mailboxes", ())
        for box in boxes:
            if keys and box not in keys:
                u.fail("mailboxes", f"no mailbox with key {box!r}")
        users.append(WebUser(login=u.str("login", required=True).strip().lower(),
                             role=u.choice("role", WEB_ROLES, "viewer"), mailboxes=boxes))
        u.done()
    base_url = w.str("base_url", "").rstrip("/")
    if base_url and not re.match(r"^https?://[^\s/]+", base_url):
        w.fail("base_url", "must be an http(s) URL")
    web = WebSettings(
        base_url=base_url,
        host=w.str("host", "127.0.0.1"),
        port=w.port("port", 8080),
        language=w.choice("language", ("nl", "fr", "en"), "nl"),
        secure_cookies=w.bool("secure_cookies", True),
        session_secret=w.secret("session_secret"),
        session_hours=w.int("session_hours", 10, minimum=1),
        oidc_issuer=w.str("oidc_issuer", "").rstrip("/"),
        oidc_client_id=w.str("oidc_client_id", ""),
        oidc_client_secret=w.secret("oidc_client_secret"),
        oidc_scope=w.str("oidc_scope", "openid profile email"),
        roles_claim=w.str("roles_claim", "roles"),
        name_claim=w.str("name_claim", "name"),
        users=tuple(users),
    )
    w.done()
    return web


def _crontab(r: _Reader, name: str, default: str) -> str:
    """A five-field crontab expression (minute hour day month weekday), checked by APScheduler."""
    value = r.str(name, default)
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value, timezone=BRUSSELS)
    except ValueError as exc:
        r.fail(name, f"{value!r} is not a crontab (minute hour day month weekday): {exc}")
    return value


def _addresses(r: _Reader, name: str) -> tuple[str, ...]:
    values = r.str_list(name, ())
    for value in values:
        if "@" not in value or any(c.isspace() for c in value):
            r.fail(name, f"{value!r} is not an e-mail address")
    return tuple(v.lower() for v in values)


def _relative(value: str, base: Path) -> str:
    if not value or Path(value).is_absolute():
        return value
    return str((base / value).resolve())


def _sqlite_relative(url: str, base: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////") and url != "sqlite:///:memory:":
        return prefix + _relative(url[len(prefix) :], base)
    return url


class _Reader:
    """Typed access to one TOML table that remembers which keys were read."""

    def __init__(self, data: Any, source: str, path: str,
                 problems: list[ConfigError] | None = None) -> None:
        self.source, self.path = source, path
        # Shared by a document's readers: a problem is noted and the default used, so one run
        # finds them all. Without it (None), the first problem raises.
        self.problems = problems
        if not isinstance(data, dict):
            error = ConfigError(source, path or "-", "must be a table")
            if problems is None or not path:
                raise error
            problems.append(error)
            data = {}
        self.data: dict[str, Any] = data
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, problem: str) -> None:
        error = ConfigError(self.source, self.key(name), problem)
        if self.problems is None:
            raise error
        self.problems.append(error)

    def has(self, name: str) -> bool:
        return name in self.data

    def allow(self, *names: str) -> None:
        for name in self.data:
            if name not in names:
                self.fail(name, f"unknown key{_did_you_mean(name, names)} "
                          f"(known: {', '.join(names)})")

    def _get(self, name: str, default: Any, required: bool = False) -> Any:
        self.used.add(name)
        if name not in self.data:
            if required:
                self.fail(name, "is required")
            return default
        return self.data[name]

    def str(self, name: str, default: str = "", required: bool = False) -> str:
        value = self._get(name, default, required)
        if not isinstance(value, str):
            self.fail(name, f"must be a string, not {type(value).__name__}")
            return default
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            self.fail(name, "must be true or false")
            return default
        return value

    def int(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"must be a whole number, not {value!r}")
            return default
        if minimum is not None and value < minimum:
            self.fail(name, f"must be at least {minimum}")
            return default
        return value

    def number(self, name: str, default: float) -> float:
        value = self._get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.fail(name, f"must be a positive number, not {value!r}")
            return float(default)
        return float(value)

    def port(self, name: str, default: int) -> int:
        value = self.int(name, default)
        if not 1 <= value <= 65535:
            self.fail(name, f"{value} is not a TCP port")
            return default
        return value

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = self.str(name, default)
        if value not in options:
            self.fail(name, f"{value!r} is not one of: {', '.join(options)}")
            return default
        return value

    def str_list(self, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self._get(name, default)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            self.fail(name, "must be a list of strings")
            return default
        return tuple(value)

    def secret(self, prefix: str) -> Secret:
        env = self.str(f"{prefix}_env", "")
        credential = self.str(f"{prefix}_credential", "")
        if prefix in self.data:
            self.fail(
                prefix,
                f"secrets never go in the settings file: use {prefix}_env or {prefix}_credential",
            )
        if env and credential:
            self.fail(f"{prefix}_env", f"set {prefix}_env or {prefix}_credential, not both")
        return Secret(env=env or None, credential=credential or None)

    def table(self, name: str) -> _Reader:
        return _Reader(self._get(name, {}), self.source, self.key(name), self.problems)

    def table_list(self, name: str) -> list[_Reader]:
        value = self._get(name, [])
        if not isinstance(value, list):
            self.fail(name, "must be an array of tables ([[mailbox]])")
            return []
        return [_Reader(v, self.source, f"{self.key(name)}[{i}]", self.problems)
                for i, v in enumerate(value)]

    def done(self) -> None:
        """Unknown keys are errors: a typo must not silently fall back to a default."""
        for name in self.data:
            if name not in self.used:
                self.fail(name, f"unknown key{_did_you_mean(name, self.used)}")


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
