"""The `yiwang` operator command.

yiwang serve [ADDR:PORT]   run the platform with gunicorn (production-grade WSGI server)
yiwang serve --demo [ADDR:PORT]  development: migrate, load the demo unless it is up to date, serve
yiwang migrate             create or upgrade the database
yiwang demo [--scale large] load demo data (refuses in production)
yiwang verify-log          recompute the audit log's Merkle tree and report the first bad entry
yiwang audit-keygen        create the Ed25519 key that signs audit tree heads
yiwang oidc-keygen         create the RSA key that signs single sign-on ID tokens (docs/sso.md)
yiwang worker              run the background task worker (notice email, deadline flags)
yiwang flag-deadlines      queue the deadline check (run daily, e.g. from cron); --now runs it here
yiwang rotate-keys         re-encrypt personal data under the current field key (--dry-run counts only;
                           --reindex rebuilds blind indexes after BLIND_INDEX_KEY changed)
yiwang seal-ca             print the e-seal root certificate for verifiers (--out FILE; created on first use)
yiwang seal-rotate CODE    give a department a new seal certificate (the old one is retired, audited)
yiwang seal-verify FILE    check a sealed PDF offline against the deployment's root
yiwang licences-cache      write the offline cache of issuer keys and status lists (--refresh fetches
                           the trusted issuers' first)
yiwang licences-trust ISSUER --name NAME  trust another deployment's issuer (keys checked in its log)
yiwang verify-licence [FILE|-]  verify a licence or presentation offline with that cache
yiwang replay-draw ID      recompute a 双随机 draw from its published inputs: identical or not
                           (--file BUNDLE.json: a bundle saved from /api/supervision/draws/ID/replay)
yiwang <django command>    any other Django management command (createsuperuser, shell, ...)
"""

import os
import sys

COMMAND_ALIASES = {
    "verify-log": "verify_log",
    "audit-keygen": "audit_keygen",
    "oidc-keygen": "oidc_keygen",
    "worker": "db_worker",
    "flag-deadlines": "flag_deadlines",
    "rotate-keys": "rotate_keys",
    "seal-ca": "seal_ca",
    "seal-rotate": "seal_rotate",
    "seal-verify": "seal_verify",
    "licences-cache": "licences_cache",
    "licences-trust": "licences_trust",
    "verify-licence": "verify_licence",
    "replay-draw": "replay_draw",
}


def _serve(args: list[str]) -> int:
    import multiprocessing

    from django.conf import settings
    from django.core.management import call_command

    demo = "--demo" in args
    args = [a for a in args if a != "--demo"]
    address = args[0] if args else os.environ.get("YIWANG_BIND", "127.0.0.1:8000")
    if demo and not settings.DEV:
        print("yiwang: --demo is for development only (set YIWANG_DEV=1).", file=sys.stderr)  # noqa: T201
        return 2
    if demo:  # `make run`: one process prepares the database, then becomes the server
        from django.db import connections

        call_command("migrate", interactive=False)
        call_command("demo")
        connections.close_all()
    if not settings.DEV:
        call_command("collectstatic", interactive=False, verbosity=0)
    workers = os.environ.get("WEB_CONCURRENCY") or str(min(8, 2 * multiprocessing.cpu_count() + 1))
    gunicorn_args = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        address,
        "--workers",
        workers,
        "--preload",  # load Django, jieba's dictionary and the signing key once, before forking
        "--access-logfile",
        "-",
        "--forwarded-allow-ips",
        os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]
    print(f"yiwang: serving on http://{address}/ with {workers} workers", flush=True)  # noqa: T201
    os.execv(sys.executable, gunicorn_args)  # noqa: S606 — replaces this process with the server
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)  # noqa: T201
        return 0
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:  # a missing or malformed setting: say which, without a traceback
        print(f"yiwang: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    command, rest = argv[0], argv[1:]
    if command == "serve":
        return _serve(rest)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["yiwang", COMMAND_ALIASES.get(command, command), *rest])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
