"""Serving the simulator: in a background thread (tests) or in the foreground (CLI)."""

import argparse
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import Simulator
from .config import SimConfig


class QuietHandler(WSGIRequestHandler):
    """Logs errors only: a test suite's output is no place for an access log."""

    def log_request(self, code="-", size="-"):
        pass


def serve(sim, host="127.0.0.1", port=0):
    """Serve ``sim`` from a daemon thread; port 0 picks a free port.

    ``sim.config.public_url`` is set to the bound address. Stop it with
    ``server.shutdown()``.
    """
    server = _bind(sim, host, port, QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="stripe-sim", daemon=True)
    thread.start()
    return server, thread


def _bind(sim, host, port, handler=None):
    """A threaded server for ``sim``; hosted-page URLs follow the port actually bound."""
    server = make_server(host, port, sim.wsgi_app, threaded=True, request_handler=handler)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    sim.config.public_url = f"http://{shown}:{server.server_port}"
    return server


def webhook_url(app_url):
    """The app's webhook endpoint from its base URL (or the endpoint itself)."""
    if app_url is None:
        return None
    app_url = app_url.rstrip("/")
    return app_url if app_url.endswith("/stripe/webhook") else app_url + "/stripe/webhook"


def run(
    host="127.0.0.1", port=12111, app_url=None, secret="whsec_sim_secret", on_clock_change=None
):
    """Run a simulator in the foreground until interrupted.

    Events go to ``{app_url}/stripe/webhook`` signed with ``secret`` (several secrets may
    be given comma-separated, as while rotating). ``on_clock_change(offset)`` is told
    whenever ``/_sim/clock/advance`` (or a reset) moves the clock.
    """
    secrets = [s.strip() for s in secret.split(",") if s.strip()]
    sim = Simulator(
        SimConfig(
            webhook_url=webhook_url(app_url),
            webhook_secrets=secrets,
            on_clock_change=on_clock_change,
        )
    )
    server = _bind(sim, host, port)
    print(f"Stripe simulator on {sim.config.public_url} (STRIPE_API_BASE)")
    print(f"Webhooks to {sim.config.webhook_url or 'nowhere (stored only)'}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return sim


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run the Stripe simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--app-url", default=None)
    parser.add_argument("--secret", default="whsec_sim_secret")
    args = parser.parse_args(argv)
    run(args.host, args.port, args.app_url, args.secret)


if __name__ == "__main__":
    main()
