"""The benches' harness: a slow first answer is waited for; every server it started stops."""

import os
import subprocess
import sys
import textwrap

import pytest

from bench.harness import Bench, BenchError, free_port, parse_wrk

SLOW_SERVER = textwrap.dedent(
    """
    import subprocess, sys, time
    from http.server import BaseHTTPRequestHandler, HTTPServer

    # A child of its own, as gunicorn's workers are: stopping the server must stop it too.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print(child.pid, flush=True)
    first = [True]

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):
            if first[0]:
                first[0] = False
                time.sleep(2.5)  # longer than a client that gives up after a second
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", int(sys.argv[1])), Slow).serve_forever()
    """
)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has ended; only its parent has not yet read its exit.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_a_slow_first_answer_is_waited_for_and_every_process_stops(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SLOW_SERVER)
    port = free_port()
    with Bench("harness-test") as bench:
        server = bench.start(
            "slow", [sys.executable, str(script), str(port)], env=dict(os.environ), port=port
        )
        server.wait_for("/", timeout=60)
        child = int(server.log_path.read_text().split()[0])
        assert alive(server.process.pid) and alive(child)
    assert not alive(server.process.pid)
    assert not alive(child)


def test_servers_stop_when_the_bench_fails(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SLOW_SERVER)
    port = free_port()
    with pytest.raises(RuntimeError), Bench("harness-test") as bench:
        server = bench.start(
            "slow", [sys.executable, str(script), str(port)], env=dict(os.environ), port=port
        )
        raise RuntimeError("the bench broke")
    assert not alive(server.process.pid)


def test_a_server_that_dies_is_reported_with_its_log(tmp_path):
    with pytest.raises(BenchError, match="no such module"), Bench("harness-test") as bench:
        server = bench.start(
            "broken",
            [sys.executable, "-c", "import sys; print('no such module'); sys.exit(3)"],
            env=dict(os.environ),
            port=free_port(),
        )
        server.wait_for("/", timeout=30)


def test_wrk_figures_are_read():
    output = textwrap.dedent(
        """
        Running 2s test @ http://127.0.0.1:5000/
          2 threads and 16 connections
          Latency Distribution
             50%    3.10ms
             75%    4.00ms
             90%    5.00ms
             99%    1.20s
          4000 requests in 2.00s, 1.00MB read
          Non-2xx or 3xx responses: 7
        Requests/sec:   1999.50
        Transfer/sec:    500.00KB
        """
    )
    figures = parse_wrk(output)
    assert (figures.requests, figures.seconds, figures.rate) == (4000, 2.0, 1999.5)
    assert (figures.p50_ms, figures.p99_ms, figures.errors) == (3.1, 1200.0, 7)


def test_a_missing_wrk_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    from bench.harness import require_wrk

    with pytest.raises(BenchError, match="apt-get install wrk"):
        require_wrk()


def test_sigterm_stops_the_bench_and_its_servers(tmp_path):
    script = tmp_path / "slow.py"
    script.write_text(SLOW_SERVER)
    port = free_port()
    runner = tmp_path / "runner.py"
    runner.write_text(
        textwrap.dedent(
            f"""
            import os, sys, time
            sys.path.insert(0, {str(tmp_path.parent)!r})
            sys.path.insert(0, {os.getcwd()!r})
            from bench.harness import Bench
            with Bench("harness-test") as bench:
                server = bench.start("slow", [sys.executable, {str(script)!r}, "{port}"],
                                     env=dict(os.environ), port={port})
                server.wait_for("/", timeout=60)
                print(server.process.pid, open(server.log_path).read().split()[0], flush=True)
                time.sleep(600)
            """
        )
    )
    bench = subprocess.Popen([sys.executable, str(runner)], stdout=subprocess.PIPE, text=True)
    server_pid, child_pid = (int(p) for p in bench.stdout.readline().split())
    bench.terminate()
    assert bench.wait(timeout=60) != 0
    assert not alive(server_pid) and not alive(child_pid)
