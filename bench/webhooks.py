"""How many Stripe events per second the webhook handles, next to a Flask hello-world.

Both are served the same way (gunicorn, 2 sync workers, on loopback) in the same run, and
driven by the same client (8 threads, keep-alive). Each event is verified (signature),
stored (its own transaction) and applied (a second transaction that locks the event row,
re-reads the session, payment intent and charge from Stripe, and records the payment).
Stripe is the simulator, in its own process. The database is PostgreSQL.

    make bench                      # or: .venv/bin/python bench/webhooks.py --payments 300

Needs PostgreSQL at BENCH_DATABASE_URL (default: the local test server); it creates and
drops its own database, ``mondial_bench``.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import sqlalchemy as sa
import stripe
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "whsec_bench_secret"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
HELLO = """
from flask import Flask, request
app = Flask(__name__)

@app.post("/stripe/webhook")
def hello():
    request.get_data()
    return {"received": True}
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} did not start (exit {process.returncode})")
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not answer in {timeout} s")


def gunicorn(app_spec, port, env, cwd):
    binary = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    process = subprocess.Popen(
        [
            binary,
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        cwd=cwd,
        env=env,
    )
    wait_for(f"http://127.0.0.1:{port}/healthz", process)
    return process


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def signed(body):
    timestamp = int(time.time())
    signature = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body}", SECRET)
    return {"Stripe-Signature": f"t={timestamp},v1={signature}", "Content-Type": "application/json"}


def drive(url, bodies, threads=8):
    """POST every body with ``threads`` keep-alive clients; return (seconds, statuses)."""
    local = threading.local()

    def send(body):
        if not hasattr(local, "http"):
            local.http = requests.Session()
        response = local.http.post(url, data=body.encode(), headers=signed(body), timeout=60)
        return response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = list(pool.map(send, bodies))
    return time.perf_counter() - started, statuses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=300, help="Checkout payments to make")
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    admin_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
    bench_url = make_url(admin_url).set(database="mondial_bench")
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("DROP DATABASE IF EXISTS mondial_bench WITH (FORCE)"))
        conn.execute(sa.text("CREATE DATABASE mondial_bench"))

    sim_port, app_port, hello_port = free_port(), free_port(), free_port()
    sim_url = f"http://127.0.0.1:{sim_port}"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "FLASK_APP": "wsgi",
        "DATABASE_URL": bench_url.render_as_string(hide_password=False),
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_API_BASE": sim_url,
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "SECRET_KEY": "bench",
        "BASE_URL": f"http://127.0.0.1:{app_port}",
    }
    processes = []
    try:
        simulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "payments.simulator.server",
                "--port",
                str(sim_port),
                "--secret",
                SECRET,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(simulator)
        wait_for(f"{sim_url}/_sim/clock", simulator)
        subprocess.run(
            [sys.executable, "-m", "flask", "db", "upgrade"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )

        bodies = prepare_events(env, sim_url, args.payments)
        print(
            f"Prepared {len(bodies)} signed checkout.session.completed events "
            f"({args.payments} payments) on PostgreSQL, Stripe simulated in its own process."
        )

        app_server = gunicorn("bench.bench_app:app", app_port, env, ROOT)
        processes.append(app_server)
        seconds, statuses = drive(
            f"http://127.0.0.1:{app_port}/stripe/webhook", bodies, args.threads
        )
        assert statuses == [200] * len(bodies), sorted(set(statuses))
        applied = count_applied(bench_url)
        assert applied == len(bodies), f"{applied} applied of {len(bodies)}"
        stop(app_server)
        processes.remove(app_server)

        hello_dir = ROOT / "instance" / "bench-hello"
        hello_dir.mkdir(parents=True, exist_ok=True)
        (hello_dir / "hello.py").write_text(HELLO)
        hello_server = subprocess.Popen(
            [
                shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{hello_port}",
                "--log-level",
                "warning",
                "hello:app",
            ],
            cwd=hello_dir,
            env=env,
        )
        processes.append(hello_server)
        wait_for(f"http://127.0.0.1:{hello_port}/", hello_server)
        hello_seconds, hello_statuses = drive(
            f"http://127.0.0.1:{hello_port}/stripe/webhook", bodies, args.threads
        )
        assert hello_statuses == [200] * len(bodies)

        rate = len(bodies) / seconds
        hello_rate = len(bodies) / hello_seconds
        print(
            f"webhook, verified + stored + applied: {len(bodies)} events in {seconds:.2f} s "
            f"= {rate:.1f} events/s"
        )
        print(
            f"Flask hello-world, same server:       {len(bodies)} requests in "
            f"{hello_seconds:.2f} s = {hello_rate:.1f} requests/s"
        )
        print(
            f"ratio: {rate / hello_rate:.3f} (webhook / hello-world); "
            f"gunicorn 2 sync workers, {args.threads} client threads, {os.cpu_count()} cores"
        )
    finally:
        for process in processes:
            stop(process)
        with admin.connect() as conn:
            conn.execute(sa.text("DROP DATABASE IF EXISTS mondial_bench WITH (FORCE)"))
        admin.dispose()


def prepare_events(env, sim_url, count):
    """Make ``count`` pending payments in the app and pay them with delivery dropped."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from bench.bench_app import app
        from core.db import db
        from payments.services import Line, Part, open_checkout, start_checkout

        control = requests.Session()
        control.post(f"{sim_url}/_sim/delivery", json={"mode": "drop"}, timeout=10)
        with app.app_context():
            for n in range(count):
                payment = start_checkout(
                    parts=[Part("bench", n + 1, 2500)],
                    lines=[Line("Gift", 2500)],
                    email=f"donor{n}@example.org",
                    language="en",
                    success_url="http://127.0.0.1/ok?session_id={CHECKOUT_SESSION_ID}",
                    cancel_url="http://127.0.0.1/cancel",
                )
                db.session.commit()
                open_checkout(payment)
                db.session.commit()
                control.post(
                    f"{sim_url}/_sim/checkout/sessions/{payment.checkout_session_id}/pay",
                    json={"card": "success"},
                    timeout=30,
                ).raise_for_status()
        events = control.get(f"{sim_url}/_sim/events", timeout=30).json()["data"]
        wanted = [e["id"] for e in events if e["type"] == "checkout.session.completed"]
        headers = {"Authorization": "Bearer sk_test_bench"}
        return [
            control.get(f"{sim_url}/v1/events/{event_id}", headers=headers, timeout=30).text
            for event_id in wanted
        ]
    finally:
        os.environ.clear()
        os.environ.update(saved)


def count_applied(url):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        applied = conn.execute(
            sa.text("SELECT count(*) FROM stripe_event WHERE outcome = 'applied'")
        ).scalar()
        paid = conn.execute(
            sa.text("SELECT count(*) FROM payment WHERE status = 'succeeded'")
        ).scalar()
    engine.dispose()
    if paid != applied:
        raise SystemExit(f"{applied} events applied but {paid} payments recorded")
    return applied


if __name__ == "__main__":
    main()
