"""Real servers for the tests: a throwaway PostgreSQL cluster, a Redis server, and a waitress server in a thread.

``TEST_POSTGRES_URL`` / ``TEST_REDIS_URL`` name running servers to use instead
(a database ``schakel_test_<pid>`` is created on the PostgreSQL server and
dropped afterwards). Otherwise the fixtures start their own from the installed
binaries (Debian's ``postgresql`` and ``redis-server``; ``.ci/run`` installs
them) in a temporary folder on a free port, and stop them at the end. When
neither is possible the tests that need the server skip, saying why.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run as the 'postgres' user then."""
    if os.geteuid() != 0:
        return cmd
    runuser = shutil.which("runuser")
    if not runuser:
        raise RuntimeError("running as root without runuser: cannot start PostgreSQL as another user")
    return [runuser, "-u", "postgres", "--", *cmd]


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def start_postgres() -> tuple[str, callable]:
    """Start a throwaway cluster; returns (url, stop). Raises RuntimeError with the reason it cannot."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql), and TEST_POSTGRES_URL is not set")
    root = tempfile.mkdtemp(prefix="schakel-pg-")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data, port = os.path.join(root, "data"), free_port()
    run = lambda cmd: subprocess.run(_as_postgres(cmd), capture_output=True, text=True, timeout=120)  # noqa: E731
    out = run([initdb, "-D", data, "-A", "trust", "-U", "schakel", "-E", "UTF8", "--no-sync"])
    if out.returncode:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {out.stderr.strip()[-300:]}")
    opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
    out = run([pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(root, "log"), "-w", "start"])
    if out.returncode:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"pg_ctl start failed: {out.stderr.strip()[-300:]}")

    def stop():
        run([pg_ctl, "-D", data, "-m", "immediate", "stop"])
        shutil.rmtree(root, ignore_errors=True)
    return f"postgresql://schakel@127.0.0.1:{port}/postgres", stop


def start_redis() -> tuple[str, callable]:
    """Start redis-server without persistence; returns (url, stop). Raises RuntimeError when it cannot."""
    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server), and TEST_REDIS_URL is not set")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("redis-server did not start")

    def stop():
        proc.terminate()
        proc.wait(10)
    return f"redis://127.0.0.1:{port}/0", stop


@pytest.fixture(scope="session")
def postgres_url():
    """URL of an empty PostgreSQL database for this test session (skips when no server can be had)."""
    import psycopg

    given = os.environ.get("TEST_POSTGRES_URL")
    stop = None
    try:
        server, stop = (given, None) if given else start_postgres()
    except RuntimeError as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    name = f"schakel_test_{os.getpid()}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    base = server.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    if stop:
        stop()


@pytest.fixture
def fresh_postgres(postgres_url):
    """``postgres_url`` emptied (schema dropped and made again) for one test."""
    import psycopg

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return postgres_url


@pytest.fixture(scope="session")
def redis_url():
    given = os.environ.get("TEST_REDIS_URL")
    stop = None
    try:
        url, stop = (given, None) if given else start_redis()
    except RuntimeError as exc:
        pytest.skip(f"no Redis server: {exc}")
    yield url
    if stop:
        stop()


def serve_in_thread(server):
    """Run a waitress SERVER (``waitress.server.create_server``) in a daemon thread; returns a function that
    stops it. Closing the listening socket from the test thread can leave waitress's select() with a closed
    descriptor (EBADF): expected at shutdown and swallowed then, a real error before it."""
    closing = threading.Event()

    def serve():
        try:
            server.run()
        except OSError:
            if not closing.is_set():
                raise

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def stop():
        closing.set()
        server.close()
        thread.join(10)

    return stop
