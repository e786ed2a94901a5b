"""``livecommerce serve | token | hooks | config | giveaway``, and ``--version``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from livecommerce import __version__
from livecommerce.auth import Role, issue_token, resolve_secret
from livecommerce.commerce.verify import add_giveaway_parser, run_giveaway_command
from livecommerce.completion import SHELLS
from livecommerce.completion import script as completion_script
from livecommerce.config import ConfigError, Settings, load_settings
from livecommerce.default_file import default_toml
from livecommerce.hooks.commands import add_hooks_parser, run_hooks_command
from livecommerce.logs import configure_logging
from livecommerce.store.client import standalone_problem
from livecommerce.store.embedded import DataDirInUseError, EmbeddedStoreError
from media.aiortc_patches import UnsupportedVersionError

EXIT_CONFIG = 2
EXIT_FAILURE = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livecommerce", description="Live-streaming commerce server."
    )
    parser.add_argument("--version", action="version", version=f"livecommerce {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run one server node")
    serve.add_argument("--config", metavar="FILE", help="TOML file overlaid on the defaults")
    serve.add_argument("--host", help="address to listen on (server.host)")
    serve.add_argument(
        "--port", type=int, help="port to listen on, 0 for any free one (server.port)"
    )
    serve.add_argument(
        "--redis-url", metavar="URL", help="store URL; empty starts the embedded store"
    )
    serve.add_argument(
        "--data-dir", metavar="DIR", help="embedded store and secret files (store.data_dir)"
    )
    serve.add_argument(
        "--demo",
        action="store_true",
        help="seed a live demo room (products, a running flash sale, the sample clip as the "
        "anchor) and offer demo viewer tokens",
    )

    token = commands.add_parser("token", help="print a signed access token")
    token.add_argument("--config", metavar="FILE", help="TOML file overlaid on the defaults")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument("--user", required=True, help="user id the token speaks for")
    token.add_argument("--room", help="limit the token to this room")
    token.add_argument(
        "--ttl", type=int, metavar="SECONDS", help="lifetime (default auth.token_ttl_s)"
    )
    token.add_argument(
        "--data-dir", metavar="DIR", help="where a generated secret lives (store.data_dir)"
    )
    add_hooks_parser(commands)
    add_giveaway_parser(commands)

    config = commands.add_parser("config", help="check a config file, print the defaults")
    actions = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="load the defaults, FILE and LIVECOMMERCE_* variables as serve does; print ok "
        "or the error (exit 2)",
    )
    check.add_argument("file", nargs="?", metavar="FILE", help="TOML file overlaid on the defaults")
    actions.add_parser("defaults", help="print the shipped default.toml (every setting)")
    completion = commands.add_parser("completion", help="print a shell completion script")
    completion.add_argument("shell", choices=SHELLS)
    return parser


def _config(args: argparse.Namespace) -> int:
    """``config check [FILE]`` (settings only: the store is not contacted) and
    ``config defaults``."""
    if args.config_command == "defaults":
        sys.stdout.write(default_toml())
        return 0
    try:
        load_settings(args.file)
    except ConfigError as exc:
        print(f"livecommerce: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print("ok")
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    flags = {
        "server": {"host": getattr(args, "host", None), "port": getattr(args, "port", None)},
        "store": {"url": getattr(args, "redis_url", None), "data_dir": args.data_dir},
        "auth": {"demo_tokens": True if getattr(args, "demo", False) else None},
    }
    return load_settings(args.config, flags=flags)


def _token(args: argparse.Namespace, settings: Settings) -> int:
    secret = resolve_secret(settings.auth.secret, settings.store.data_dir)
    if secret.generated:
        print(
            f"livecommerce: generated a new token signing secret in {secret.source}",
            file=sys.stderr,
        )
    ttl = settings.auth.token_ttl_s if args.ttl is None else args.ttl
    try:
        token = issue_token(secret.value, Role(args.role), args.user, args.room, ttl)
    except ValueError as exc:
        print(f"livecommerce token: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(token)
    return 0


def _make_data_dir(path: str) -> bool:
    """Create the data dir, mode 0700: secrets and the store's files live there (an
    existing one is left as it is). False, said on stderr, when it cannot be made."""
    try:
        Path(path).mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        print(f"livecommerce: cannot create the data dir: {exc}", file=sys.stderr)
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "completion":
        sys.stdout.write(completion_script(_parser(), args.shell))
        return 0
    if args.command == "config":
        return _config(args)
    if args.command == "giveaway":
        return run_giveaway_command(args)
    try:
        settings = _settings(args)
    except ConfigError as exc:
        print(f"livecommerce: config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.command == "hooks":
        return run_hooks_command(args, settings)
    needs_data_dir = args.command == "serve" or not settings.auth.secret
    if needs_data_dir and not _make_data_dir(settings.store.data_dir):
        return EXIT_FAILURE
    if args.command == "token":
        return _token(args, settings)
    problem = standalone_problem(settings.store.url, settings.store.connect_timeout_s)
    if problem:
        print(f"livecommerce: config error: store.url: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log.level, settings.log.format)
    from livecommerce.server import ListenError, serve
    from livecommerce.store.schema import SchemaMigrationError, SchemaTooNewError

    try:
        serve(settings, demo=args.demo)
    except DataDirInUseError as exc:
        print(f"livecommerce: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except EmbeddedStoreError as exc:
        print(f"livecommerce: embedded store failed: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except (ListenError, UnsupportedVersionError, SchemaTooNewError, SchemaMigrationError) as exc:
        print(f"livecommerce: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
