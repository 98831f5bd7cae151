"""`intake web`: serve the staff console with uvicorn (bound to [web] host:port or a socket)."""

from __future__ import annotations

import argparse

from intake.cli.common import fail, settings_from_args
from intake.config import ConfigError


def register(sub, name: str, help_text: str, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(name, help=help_text, parents=[common], description=help_text)
    p.add_argument("--host", help="address to bind (default: [web] host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: [web] port, 8080)")
    p.add_argument("--uds", metavar="PATH", help="listen on a unix socket instead (behind the "
                   "reverse proxy)")
    p.add_argument("--demo", action="store_true",
                   help="local demo sign-in without a provider; only on 127.0.0.1")
    p.add_argument("--at", metavar="DATETIME",
                   help="demo only: pretend it is this moment (ISO, Brussels time)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from datetime import datetime

    import uvicorn

    from intake.store.db import DatabaseNotReady, ensure_current, make_engine
    from intake.store.timezone import BRUSSELS
    from intake.web.app import create_app
    from intake.web.login import is_loopback

    try:
        settings = settings_from_args(args)
        ensure_current(make_engine(settings.database.url))
    except (ConfigError, DatabaseNotReady) as exc:
        return fail(str(exc))
    host = args.host or settings.web.host
    port = args.port or settings.web.port
    if args.demo and (args.uds or not is_loopback(host)):
        return fail("--demo signs anyone in without a password: it only listens on 127.0.0.1")
    clock = None
    if args.at:
        if not args.demo:
            return fail("--at is for the demo only")
        try:
            moment = datetime.fromisoformat(args.at)
        except ValueError:
            return fail(f"--at {args.at!r} is not an ISO date-time")
        moment = moment if moment.tzinfo else moment.replace(tzinfo=BRUSSELS)
        clock = lambda: moment  # noqa: E731
    try:
        app = create_app(settings, demo=args.demo, clock=clock)
    except ConfigError as exc:
        return fail(str(exc))
    if args.demo:
        print(f"Demo console on http://{host}:{port}/ (local demo sign-in, 127.0.0.1 only)")
    uvicorn.run(app, host=host, port=port, uds=args.uds, proxy_headers=True,
                forwarded_allow_ips="127.0.0.1", server_header=False, log_config=None,
                access_log=False)
    return 0
