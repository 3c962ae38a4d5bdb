"""What every bench shares: its own database, servers it starts and always stops, and wrk.

Each server runs in a process group of its own, so that stopping it stops its children
too (gunicorn's workers), and every server a bench started is stopped on any exit: a
normal end, an exception, Ctrl-C or SIGTERM. Waiting for a server is patient: a first
answer that takes seconds (imports, a cold database) is waited for, not mistaken for a
crash.

    with Bench("pages") as bench:
        db_url = bench.database()
        app = bench.gunicorn("wsgi:app", env=bench.app_env(...))
        print(bench.wrk(app.url + "/"))
"""

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOGS = ROOT / "instance" / "bench-logs"

#: Where the benches create and drop their databases (a PostgreSQL server's admin URL).
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
#: The benches' databases are named ``<prefix>_<bench>``; two checkouts benching on one
#: server at once each set a prefix of their own (``BENCH_DATABASE_PREFIX``).
DEFAULT_DATABASE_PREFIX = "mondial_bench"

HELLO_APP = '''
"""A Flask hello-world: the yardstick every bench figure is divided by."""
from flask import Flask, request

app = Flask(__name__)


@app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@app.route("/<path:path>", methods=["GET", "POST"])
def hello(path):
    request.get_data()
    return "Hello, World!"
'''

# wrk hands out the bodies in a file, one per request, each thread its own share, and
# starts over when its share is sent.
WRK_SCRIPT = r"""
local threads = %(threads)d
local bodies, signatures, index = {}, {}, 0
local created = 0

function setup(thread)
  thread:set("thread_no", created)
  created = created + 1
end

function init(args)
  local file = assert(io.open("%(path)s", "r"))
  local n = 0
  for line in file:lines() do
    if n %% threads == thread_no then
      local sep = line:find("\t", 1, true)
      table.insert(signatures, line:sub(1, sep - 1))
      table.insert(bodies, line:sub(sep + 1))
    end
    n = n + 1
  end
  file:close()
end

function request()
  if index >= #bodies then index = 0 end
  index = index + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Stripe-Signature"] = signatures[index],
  }, bodies[index])
end
"""


class BenchError(SystemExit):
    """A bench cannot go on; the message says why and what to do."""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_wrk():
    path = shutil.which("wrk")
    if path is None:
        raise BenchError(
            "wrk is not installed. On Debian or Ubuntu: sudo apt-get install wrk "
            "(on macOS: brew install wrk), then run the bench again."
        )
    return path


def lower(pid, niceness):
    """Run process ``pid`` ``niceness`` steps below normal priority, in its own session.

    With Linux's autogroup scheduling, the CPU is shared between sessions before niceness
    counts, and each server here has a session of its own: its group is lowered too, or
    a "nice" process would still compete with the app as an equal.
    """
    from core.worker import lower_group

    os.setpriority(os.PRIO_PROCESS, pid, niceness)
    lower_group(niceness, pid)


class Server:
    """A process started in its own process group; stop() ends the group."""

    def __init__(self, name, argv, *, env, cwd=ROOT, port=None, niceness=0):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}" if port else None
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: stop() reaches gunicorn's workers too
        )
        if niceness:
            lower(self.process.pid, niceness)

    def running(self):
        return self.process.poll() is None

    def log_tail(self, lines=30):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_for(self, path="/healthz", timeout=180):
        """Wait until ``path`` answers 2xx; a slow answer is waited for, not an error."""
        url = self.url + path
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.running():
                raise BenchError(
                    f"{self.name} stopped (exit {self.process.returncode}) before answering "
                    f"{url}; its log ({self.log_path}) ends with:\n{self.log_tail()}"
                )
            try:
                response = requests.get(url, timeout=max(1.0, deadline - time.monotonic()))
                if response.ok:
                    return response
                last = f"HTTP {response.status_code}"
            except requests.RequestException as error:  # refused, reset, or still thinking
                last = type(error).__name__
            time.sleep(0.2)
        raise BenchError(
            f"{self.name} did not answer {url} in {timeout} s (last: {last}); its log "
            f"({self.log_path}) ends with:\n{self.log_tail()}"
        )

    def stop(self, timeout=20):
        if self.running():
            self._signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.process.wait()
        # Anything the group left behind (a worker that ignored the signal) goes too.
        self._signal(signal.SIGKILL)
        self._log.close()

    def _signal(self, signum):
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int  # socket errors, timeouts and non-2xx/3xx answers

    def __str__(self):
        return f"{self.rate:8.1f} req/s  p50 {self.p50_ms:6.1f} ms  p99 {self.p99_ms:7.1f} ms"


def _ms(text):
    number, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def parse_wrk(output):
    """The figures of ``wrk --latency`` output."""
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    seconds = _ms(done.group(2) + done.group(3)) / 1000
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", output)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        errors += sum(int(n) for n in match.groups())
    return WrkResult(
        requests=int(done.group(1)),
        seconds=seconds,
        rate=rate,
        p50_ms=_ms(p50.group(1)) if p50 else 0.0,
        p99_ms=_ms(p99.group(1)) if p99 else 0.0,
        errors=errors,
    )


class Bench:
    """One bench run: its servers, its database and its temporary files, all undone on exit."""

    def __init__(self, name):
        self.name = name
        self._stack = ExitStack()
        self.servers = []
        self.tmp = None

    def __enter__(self):
        # Two runs of one bench would share its database and Redis keys: one at a time.
        LOGS.mkdir(parents=True, exist_ok=True)
        lock = open(LOGS / f"{self.name}.lock", "w")  # noqa: SIM115 (closed on exit)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise BenchError(f"Another run of the {self.name} bench is going on.") from None
        self._stack.callback(lock.close)
        # SIGTERM (a CI timeout, `kill`) and SIGHUP (a closed terminal) unwind like Ctrl-C,
        # so the finally blocks below stop the servers.
        for signum in (signal.SIGTERM, signal.SIGHUP):
            self._stack.callback(signal.signal, signum, signal.signal(signum, _raise_exit))
        self.tmp = Path(tempfile.mkdtemp(prefix=f"bench-{self.name}-"))
        self._stack.callback(shutil.rmtree, self.tmp, ignore_errors=True)
        return self

    def __exit__(self, *exc):
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as error:  # keep stopping the others
                print(f"could not stop {server.name}: {error}", file=sys.stderr)
        self.servers.clear()
        self._stack.close()
        return False

    # -- servers -------------------------------------------------------------------------

    def start(self, name, argv, *, env, cwd=ROOT, port=None, ready=None, timeout=180, niceness=0):
        server = Server(name, argv, env=env, cwd=cwd, port=port, niceness=niceness)
        self.servers.append(server)
        if ready is not None:
            server.wait_for(ready, timeout=timeout)
        return server

    def stop(self, server):
        server.stop()
        self.servers.remove(server)

    def gunicorn(self, name, app_spec, *, env, cwd=ROOT, workers=2, ready="/healthz", port=None):
        """``app_spec`` served as production serves it: gunicorn, sync workers, loopback.

        ``port`` is for a server whose address another process must know beforehand (the
        Stripe simulator's webhook target); a free one by default.
        """
        port = port or free_port()
        binary = shutil.which("gunicorn", path=str(BIN)) or "gunicorn"
        # The same (empty) settings file for the app and hello-world: gunicorn.conf.py's
        # access log would otherwise weigh on the app alone.
        settings = self.tmp / "gunicorn.conf.py"
        settings.touch()
        argv = [
            binary,
            "--config",
            str(settings),
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
            app_spec,
        ]
        return self.start(name, argv, env=env, cwd=cwd, port=port, ready=ready)

    def hello(self, env, workers=2):
        """The Flask hello-world, served the same way."""
        folder = self.tmp / "hello"
        folder.mkdir(exist_ok=True)
        (folder / "hello_app.py").write_text(HELLO_APP)
        return self.gunicorn("hello", "hello_app:app", env=env, cwd=folder, workers=workers)

    def worker(self, env):
        """``flask worker run``: the outbox and the periodic tasks (and stored events)."""
        return self.start(
            "worker", [str(BIN / "flask"), "worker", "run"], env={"FLASK_APP": "wsgi", **env}
        )

    # -- the database ----------------------------------------------------------------------

    def database(self):
        """An empty PostgreSQL database of this bench's own, emptied again on exit; its URL.

        The database is made once and kept: each run empties its schema instead, because
        dropping a database waits for a checkpoint, which takes minutes on a busy disk.
        """
        admin_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
        prefix = os.environ.get("BENCH_DATABASE_PREFIX") or DEFAULT_DATABASE_PREFIX
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,40}", prefix):
            raise BenchError(f"BENCH_DATABASE_PREFIX: lower-case letters, digits, _ ({prefix!r})")
        name = f"{prefix}_{self.name}"
        url = make_url(admin_url).set(database=name)
        admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                found = conn.execute(
                    sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                if found is None:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        except sa.exc.OperationalError as error:
            raise BenchError(
                f"No PostgreSQL at {make_url(admin_url).render_as_string()} "
                f"(set BENCH_DATABASE_URL to a server's admin URL): {error.orig}"
            ) from None
        finally:
            admin.dispose()
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")

        def empty():
            with engine.connect() as conn:
                # Whatever a stopped run left connected (an idle transaction) lets go first.
                conn.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :name AND pid <> pg_backend_pid()"
                    ),
                    {"name": name},
                )
                conn.execute(sa.text("DROP SCHEMA public CASCADE"))
                conn.execute(sa.text("CREATE SCHEMA public"))

        empty()
        self._stack.callback(engine.dispose)
        self._stack.callback(empty)
        return url.render_as_string(hide_password=False)

    def flask(self, env, *args):
        """Run a ``flask`` command to completion (migrations, seeding)."""
        result = subprocess.run(
            [str(BIN / "flask"), *args],
            cwd=ROOT,
            env={"FLASK_APP": "wsgi", **env},
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise BenchError(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    # -- load ----------------------------------------------------------------------------

    def wrk(self, url, *, seconds=10, connections=16, threads=2, headers=()):
        """Drive ``url`` with GET requests for ``seconds``; the figures wrk prints."""
        argv = [*self._wrk_argv(seconds, connections, threads), url]
        for header in headers:
            argv[1:1] = ["-H", header]
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode:
            raise BenchError(f"wrk failed on {url}:\n{result.stdout}{result.stderr}")
        return parse_wrk(result.stdout)

    def post(self, url, signed_bodies, *, seconds=5, connections=16, threads=2):
        """POST ``(Stripe-Signature, body)`` pairs in turn for ``seconds``; wrk's figures.

        Each body goes once before any goes twice; ``requests`` beyond their number are
        repeats (the caller says so when it matters).
        """
        run = self.tmp / f"post-{time.monotonic_ns()}"
        run.mkdir()
        data = run / "bodies.tsv"
        with data.open("w") as out:
            for signature, body in signed_bodies:
                if "\n" in body or "\t" in body:
                    raise ValueError("bodies must be compact JSON on one line")
                out.write(f"{signature}\t{body}\n")
        script = run / "post.lua"
        script.write_text(WRK_SCRIPT % {"threads": threads, "path": str(data)})
        argv = [*self._wrk_argv(seconds, connections, threads), "-s", str(script), url]
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode:
            raise BenchError(f"wrk failed on {url}:\n{result.stdout}{result.stderr}")
        return parse_wrk(result.stdout)

    @staticmethod
    def _wrk_argv(seconds, connections, threads):
        return [
            require_wrk(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "30s",
            "--latency",
        ]


def _raise_exit(signum, frame):
    raise SystemExit(128 + signum)


def ratio(rate, baseline):
    return rate / baseline if baseline else 0.0


def percentile(values, fraction):
    """The value below which ``fraction`` of ``values`` fall (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]
