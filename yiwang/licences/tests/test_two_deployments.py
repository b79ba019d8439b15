"""Two deployments (跨域互认): B trusts A's issuer and verifies A's licences, before and after A
revokes one; a key swapped into A's database behind the platform's back is refused by B.

Each deployment is a real server process (``yiwang serve``: gunicorn) with a database of its own
(two SQLite files in a temporary folder, or two PostgreSQL databases when DATABASE_URL points at
PostgreSQL), migrated and set up by processes run with that deployment's settings
(``deployment.py``); the test process never touches their databases. B reaches A over HTTP only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[3]
STATUS_TTL = 2  # A's status list ttl (seconds): B must fetch A's list again after it


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postgres_urls() -> tuple[str, str] | None:
    """Two database URLs beside DATABASE_URL's when it is PostgreSQL (names from
    YIWANG_TWO_DEPLOYMENTS_DBS="a,b", else ``test_<name>_a``/``_b``), created afresh; else None."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        return None
    import psycopg

    parts = urlsplit(url)
    base = parts.path.lstrip("/")
    names = os.environ.get("YIWANG_TWO_DEPLOYMENTS_DBS", f"test_{base}_a,test_{base}_b").split(",")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    return tuple(urlunsplit(parts._replace(path=f"/{n}")) for n in names)


def _drop_postgres(urls) -> None:
    import psycopg

    parts = urlsplit(urls[0])
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        for url in urls:
            conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')


class Deployment:
    def __init__(self, name: str, folder: Path, database_url: str, **extra_env):
        self.name, self.port = name, _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True)
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "LICENCES_", "YIWANG_"))}
        self.env = {
            **keep,
            "YIWANG_DEV": "1",
            "YIWANG_VAR_DIR": str(folder),
            "DATABASE_URL": database_url,
            "LICENCES_PUBLIC_URL": self.url,
            "WEB_CONCURRENCY": "1",
            **extra_env,
        }
        self.log = folder / "server.log"
        self.server: subprocess.Popen | None = None

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(  # noqa: S603 — our own interpreter and modules
            [sys.executable, *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        if check and done.returncode != 0:
            raise AssertionError(f"{self.name}: {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def action(self, *args: str) -> dict:
        return json.loads(
            self.run("-m", "yiwang.licences.tests.deployment", *args).stdout.strip().splitlines()[-1]
        )

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.run("manage.py", *args, check=check)

    def start(self) -> None:
        with self.log.open("w") as log:  # the server keeps its own copy of the descriptor
            self.server = subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "yiwang.cli", "serve", f"127.0.0.1:{self.port}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/licences/types", timeout=2):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError(f"{self.name} does not answer:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.server is not None and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()

    def verify(self, credential: str) -> dict:
        request = urllib.request.Request(  # noqa: S310 — our own test server
            f"{self.url}/api/licences/verify",
            data=json.dumps({"credential": credential}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())


@pytest.fixture(scope="module")
def deployments(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two-deployments")
    pg = _postgres_urls()
    urls = pg or (f"sqlite:///{folder / 'a.sqlite3'}", f"sqlite:///{folder / 'b.sqlite3'}")
    a = Deployment("A", folder / "a", urls[0], LICENCES_STATUS_TTL=str(STATUS_TTL))
    b = Deployment("B", folder / "b", urls[1])
    try:
        migrations = [
            subprocess.Popen(  # noqa: S603 — both migrate at once
                [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=d.env, stderr=subprocess.PIPE
            )
            for d in (a, b)
        ]
        for d, process in zip((a, b), migrations, strict=True):
            _out, err = process.communicate(timeout=180)
            assert process.returncode == 0, f"{d.name}: migrate failed: {err.decode()[-3000:]}"
        for d in (a, b):
            d.action("setup")
            d.start()
        for d in (a, b):
            d.wait_ready()
        yield a, b
    finally:
        a.stop()
        b.stop()
        if pg:
            _drop_postgres(pg)


def test_b_verifies_a_licence_of_a_before_and_after_it_is_revoked(deployments):  # noqa: PLR0915
    a, b = deployments
    first = a.action("issue", "610100-GAT")
    iss = f"{a.url}/licences/issuers/610100-GAT"

    # Not trusted yet: B does not know A's issuer.
    assert b.verify(first["credential"])["verdict"] == "untrusted_issuer"

    # B's administrator trusts A's issuer: metadata fetched over HTTP, keys checked in A's log.
    added = b.manage("licences_trust", iss, "--name", "西安市公安局（甲部署）")
    assert "Trusted" in added.stdout
    answer = b.verify(first["credential"])
    assert answer["verdict"] == "valid", answer
    assert answer["issuer"] == iss and answer["issuer_name"] == "西安市公安局（甲部署）"

    # A revokes it; B's refresh (the licences-cache command) fetches A's status list again.
    a.action("revoke", first["number"])
    b.manage("licences_cache", "--refresh")
    answer = b.verify(first["credential"])
    assert answer["verdict"] == "revoked", answer

    # Without any refresh: once A's status list is past its ttl, B's verifier fetches it again.
    second = a.action("issue", "610100-GAT")
    assert b.verify(second["credential"])["verdict"] == "valid"
    a.action("revoke", second["number"])
    time.sleep(STATUS_TTL + 0.5)
    assert b.verify(second["credential"])["verdict"] == "revoked"

    # A licence of an issuer B does not trust (A's other department).
    other = a.action("issue", "610102-GAT")
    answer = b.verify(other["credential"])
    assert answer["verdict"] == "untrusted_issuer" and answer["claims"] == []

    # A key swapped into A's database (no audit entry) is refused when B is asked to trust it ...
    swapped = a.action("swap-key", "610102-GAT")["kid"]
    refused = b.manage(
        "licences_trust", f"{a.url}/licences/issuers/610102-GAT", "--name", "新城分局", check=False
    )
    assert refused.returncode != 0 and swapped in refused.stderr, refused.stderr
    # ... and when B refreshes an issuer it trusts: B keeps the keys it checked before.
    swapped = a.action("swap-key", "610100-GAT")["kid"]
    refresh = b.manage("licences_cache", "--refresh")
    assert f"{iss}: " in refresh.stderr and swapped in refresh.stderr, refresh.stderr
    third = a.action("issue", "610100-GAT")  # signed with the swapped key
    assert b.verify(third["credential"])["verdict"] == "untrusted_issuer"

    # A is down and its list past its ttl: B cannot know the status, so it never says valid.
    a.stop()
    time.sleep(STATUS_TTL + 0.5)
    assert b.verify(second["credential"])["verdict"] == "status_unknown"
