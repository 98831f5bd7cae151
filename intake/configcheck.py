"""What `intake config check` finds beyond the file's shape: secrets that will not resolve, folders
that do not exist — what would otherwise fail only when the service runs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intake.config import ConfigError, Secret, Settings

# Where LoadCredential= of the shipped unit reads the credential files from.
DEFAULT_CREDENTIALS_SOURCE = Path("/etc/dpo-intake/credentials")


@dataclass(frozen=True)
class Problem:
    """One thing that will fail at run time: the settings key, what is wrong, how to fix it."""

    key: str
    problem: str
    fix: str
    warning: bool = False  # works, but less than it should (e.g. signatures unverifiable)

    def line(self, source: str) -> str:
        label = "warning" if self.warning else "error"
        return f"{label}: {source}: {self.key}: {self.problem} — fix: {self.fix}"


def environment_problems(
    settings: Settings,
    environ: dict[str, str] | None = None,
    credentials_source: Path = DEFAULT_CREDENTIALS_SOURCE,
) -> list[Problem]:
    """Every problem of the settings in this environment (nothing is connected to)."""
    env = dict(os.environ if environ is None else environ)
    found: list[Problem] = []
    for key, secret in _secrets(settings):
        found.extend(_secret(key, secret, env, credentials_source))
    found.extend(_database(settings))
    rules = Path(settings.rules_dir)
    if not rules.is_dir() or not any(rules.glob("*.yaml")):
        found.append(Problem("rules.dir", f"{rules} holds no rule files (*.yaml)",
                             "point [rules] dir at the installed rules/ folder"))
    model = Path(settings.model_dir)
    if not (model / "meta.json").is_file():
        found.append(Problem("model.dir", f"{model} holds no trained model (meta.json)",
                             f"run `intake model train --out {model}` (or `make model`)"))
    if not Path(settings.trust.anchors_dir).is_dir():
        found.append(Problem("trust.anchors_dir", f"{settings.trust.anchors_dir} does not exist",
                             "create it with the PEM CA certificates (docs/signatures.md)",
                             warning=True))
    if settings.smtp.ca_file and not Path(settings.smtp.ca_file).is_file():
        found.append(Problem("smtp.ca_file", f"{settings.smtp.ca_file} does not exist",
                             "give the path of a PEM CA certificate, or leave it empty"))
    if settings.smtp.transport == "file":
        found.extend(_writable_dir("smtp.file_dir", Path(settings.smtp.file_dir)))
    found.extend(_writable_dir("run.state_dir", Path(settings.run.state_dir)))
    if settings.metrics.textfile:
        found.extend(_writable_dir("metrics.textfile", Path(settings.metrics.textfile).parent))
    for i, mailbox in enumerate(settings.mailboxes):
        where = f"mailbox[{i}]"
        if mailbox.maildir:
            path = Path(mailbox.maildir.path)
            if not all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
                found.append(Problem(f"{where}.maildir.path", f"{path} is not a Maildir "
                                     "(cur/, new/, tmp/)", "create it or correct the path"))
        if mailbox.imap and mailbox.imap.ca_file and not Path(mailbox.imap.ca_file).is_file():
            found.append(Problem(f"{where}.imap.ca_file", f"{mailbox.imap.ca_file} does not "
                                 "exist", "give the path of a PEM CA certificate, or leave it "
                                 "empty"))
    return found


def _secrets(settings: Settings) -> list[tuple[str, Secret]]:
    secrets: list[tuple[str, Secret]] = []
    smtp = settings.smtp
    if smtp.transport == "smtp" and smtp.oauth2 is not None:
        secrets.extend(_oauth2_secrets("smtp", smtp.oauth2))
    elif smtp.transport == "smtp" and smtp.username:
        secrets.append(("smtp.password", smtp.password))
    for i, mailbox in enumerate(settings.mailboxes):
        if mailbox.imap and mailbox.imap.oauth2 is not None:
            secrets.extend(_oauth2_secrets(f"mailbox[{i}].imap", mailbox.imap.oauth2))
        elif mailbox.imap:
            secrets.append((f"mailbox[{i}].imap.password", mailbox.imap.password))
    if settings.identity.number_salt.configured:
        secrets.append(("identity.number_salt", settings.identity.number_salt))
    return secrets


def _oauth2_secrets(where: str, oauth2: Any) -> list[tuple[str, Secret]]:
    """The app's credential: its certificate key when one is set, else its client secret."""
    if oauth2.certificate.configured:
        return [(f"{where}.certificate", oauth2.certificate)]
    return [(f"{where}.client_secret", oauth2.client_secret)]


def _secret(key: str, secret: Secret, env: dict[str, str], source: Path) -> list[Problem]:
    if secret.env:
        if env.get(secret.env) is None:
            return [Problem(f"{key}_env", f"environment variable {secret.env} is not set",
                            f"set {secret.env} in the unit's EnvironmentFile= (mode 0600), or "
                            f"use {key.rsplit('.', 1)[-1]}_credential with LoadCredential=")]
        if not env[secret.env]:
            return [Problem(f"{key}_env", f"environment variable {secret.env} is empty",
                            f"put the secret in {secret.env}")]
        return []
    if not secret.credential:
        return []
    directory = env.get("CREDENTIALS_DIRECTORY")
    path = Path(directory) / secret.credential if directory else source / secret.credential
    if not path.is_file():
        where = ("$CREDENTIALS_DIRECTORY" if directory else str(source))
        return [Problem(f"{key}_credential", f"credential {secret.credential!r} not found in "
                        f"{where}", f"create {source / secret.credential} (mode 0600, owner root)"
                        f" and list it in the unit: LoadCredential={secret.credential}:"
                        f"{source / secret.credential}")]
    try:
        Secret(credential=secret.credential).resolve() if directory else path.read_bytes()
    except (OSError, ConfigError) as exc:
        return [Problem(f"{key}_credential", f"credential {secret.credential!r} is not readable: "
                        f"{getattr(exc, 'strerror', None) or exc}",
                        "check the file's owner and mode")]
    return []


def _database(settings: Settings) -> list[Problem]:
    url = settings.database.url
    if not url.startswith("sqlite:///") or url.endswith(":memory:"):
        return []
    path = Path(url[len("sqlite:///"):])
    return _writable_dir("database.url", path.parent)


def _writable_dir(key: str, directory: Path) -> list[Problem]:
    """The directory exists and is writable, or its nearest existing parent lets us create it."""
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return [Problem(key, f"{probe} is not a directory", f"create {directory}")]
    if not os.access(probe, os.W_OK | os.X_OK):
        return [Problem(key, f"{probe} is not writable by this user",
                        f"create {directory} owned by the service user (StateDirectory=)")]
    return []
