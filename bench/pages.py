"""Requests per second of the public pages, each beside a Flask hello-world's, and their queries.

The app runs as production runs it: gunicorn with 2 sync workers, ``APP_ENV=production``
(with local values for what production requires), PostgreSQL (a database of the bench's
own) and Redis. A Flask hello-world is served the same way in the same run; wrk drives
each page at 16 connections. The pages' data is the migrations' (funds, tiers) and the
demo's Get Involved content, with 50 approved comments on a content page. The SQL queries
of each page are counted in this process against the same database: cold (nothing kept)
and warm (as most visitors get it).

    make bench                 # every bench, in full
    .venv/bin/python bench/pages.py --seconds 10 --rounds 3
    .venv/bin/python bench/pages.py --path /funds      # one more page, this run only

To add a page for good, add a line to ``PAGES``. Needs wrk (``apt-get install wrk``),
PostgreSQL at ``BENCH_DATABASE_URL`` (a server's admin URL) and Redis at ``BENCH_REDIS_URL``.
"""

import argparse
import os
import secrets
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import DEFAULT_REDIS_URL, Bench, ratio, require_wrk  # noqa: E402

READ, FORM = "read", "form"
#: The least share of hello-world's requests per second each kind of page must reach.
GOALS = {READ: 0.30, FORM: 0.20}


@dataclass(frozen=True)
class Page:
    path: str
    kind: str = READ


#: What the pages below need in the database, besides what the migrations put there (the
#: funds and the tiers): the open demo campaign, and a content page with comments.
OPEN_CAMPAIGN = "keep-canadas-peacekeeping-promises"
CONTENT_PAGE = "france-canada-peacekeeping-roadmap"
APPROVED_COMMENTS = 50

#: The public pages a campaign spike lands on. The shop's pages join this list as they are
#: built: ``/shop``, a product page, ``/cart``.
PAGES = [
    Page("/"),
    Page("/donate", FORM),
    Page("/donate?lang=fr", FORM),
    Page("/funds/general"),
    Page("/api/v1/funds"),
    Page("/join"),
    Page("/join/individual", FORM),
    Page("/take-action"),
    Page(f"/take-action/{OPEN_CAMPAIGN}", FORM),
    Page(f"/pages/{CONTENT_PAGE}"),
    Page("/shop"),
    Page("/shop/mondial-42"),
    Page("/cart", FORM),
]


def production_env(database_url):
    """Production settings, with local values for what production requires."""
    return {
        **os.environ,
        "APP_ENV": "production",
        "FLASK_APP": "wsgi",
        "SECRET_KEY": secrets.token_urlsafe(48),  # production refuses a weak one
        "DATABASE_URL": database_url,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        "BASE_URL": "https://mondial.example.org",
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": "whsec_bench_secret",
        "PROXY_COUNT": "1",
    }


def production_app(env):
    """The app as the servers run it, in this process."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from core import create_app

        return create_app()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def seed(app):
    """The open campaign and the content page, with its approved comments."""
    import sqlalchemy as sa

    from core.db import db
    from involve.content import seed_demo
    from involve.models import Comment, CommentStatus, ContentPage

    with app.app_context():
        seed_demo()
        page = db.session.scalar(sa.select(ContentPage).where(ContentPage.slug == CONTENT_PAGE))
        db.session.add_all(
            Comment(
                page_id=page.id,
                name=f"Reader {n}",
                email=f"reader{n}@example.org",
                body=f"Comment {n}: Canada and France working together on peacekeeping "
                "in French-speaking countries is a sensible way to share the load.",
                status=CommentStatus.approved,
            )
            for n in range(APPROVED_COMMENTS)
        )
        db.session.commit()
        db.session.remove()


def count_queries(app, paths):
    """SQL statements per page: cold (nothing kept in the process) and warm."""
    import sqlalchemy as sa

    from core import cache

    statements = []

    def note(*args):
        statements.append(args[2])

    client = app.test_client()
    counts = {}
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", note)
    try:
        for path in paths:
            with app.app_context():
                cache.clear_local()
            found = []
            for _ in range(2):
                statements.clear()
                response = client.get(path, base_url="https://mondial.example.org")
                if response.status_code != 200:
                    raise SystemExit(f"{path} answered {response.status_code}, not 200")
                found.append(len(statements))
            counts[path] = tuple(found)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", note)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk's duration per page")
    parser.add_argument("--rounds", type=int, default=1, help="measure everything N times")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--path", action="append", default=[], help="one more page")
    parser.add_argument("--smoke", action="store_true", help="a second per page, no goals")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seconds, args.rounds = 1, 1
    pages = PAGES + [Page(p) for p in args.path]
    require_wrk()

    with Bench("pages") as bench:
        env = production_env(bench.database())
        bench.flask(env, "db", "upgrade")
        bench.flask(env, "shop", "demo-catalogue", "--products", "50")
        local = production_app(env)
        seed(local)
        queries = count_queries(local, [p.path for p in pages])
        app = bench.gunicorn("app", "wsgi:app", env=env)
        hello = bench.hello(env)
        # Each worker imports, connects and fills its cache: not part of the figures.
        for page in pages:
            bench.wrk(app.url + page.path, seconds=1, connections=args.connections)
        bench.wrk(hello.url + "/", seconds=1, connections=args.connections)

        rates = {p.path: [] for p in pages}
        hellos = []

        def hello_rate():
            rate = bench.wrk(
                hello.url + "/", seconds=args.seconds, connections=args.connections
            ).rate
            hellos.append(rate)
            return rate

        # Hello-world before and after each page, the page against their mean: the machine's
        # load drifts (other work shares the cores) and this keeps each ratio to one moment.
        for round_no in range(args.rounds):
            before = hello_rate()
            for page in pages:
                figures = bench.wrk(
                    app.url + page.path, seconds=args.seconds, connections=args.connections
                )
                if figures.errors:
                    raise SystemExit(f"{page.path}: {figures.errors} failed requests")
                after = hello_rate()
                rates[page.path].append((figures, (before + after) / 2))
                before = after
            if args.rounds > 1:
                print(f"round {round_no + 1} of {args.rounds} done", flush=True)

    print(
        f"\ngunicorn 2 sync workers, wrk {args.connections} connections, {args.seconds} s "
        f"per page, {args.rounds} round(s), {os.cpu_count()} cores; production settings, "
        "PostgreSQL, Redis"
    )
    print(
        f"Flask hello-world: {statistics.median(hellos):.0f} req/s median "
        f"(measured between the pages: {', '.join(f'{h:.0f}' for h in hellos)})\n"
    )
    width = max(22, *(len(p.path) for p in pages))
    header = (
        f"{'page':<{width}} {'req/s':>8} {'hello':>8} {'ratio':>7} {'goal':>6}  {'SQL':>9}  p50/p99"
    )
    print(header)
    print("-" * len(header))
    missed = []
    for page in pages:
        measured = rates[page.path]
        page_ratios = [ratio(f.rate, h) for f, h in measured]
        mid = statistics.median(page_ratios)
        figures, hello_rate = measured[
            page_ratios.index(min(page_ratios, key=lambda r: abs(r - mid)))
        ]
        goal = GOALS.get(page.kind)
        verdict = ""
        if not args.smoke and goal is not None:
            verdict = "ok" if mid >= goal else "MISSED"
            if mid < goal:
                missed.append(page.path)
        cold, warm = queries[page.path]
        print(
            f"{page.path:<{width}} {figures.rate:8.0f} {hello_rate:8.0f} {mid:6.3f}x "
            f"{'' if goal is None else f'{goal:.2f}':>6}  {cold} cold/{warm} warm  "
            f"{figures.p50_ms:.1f}/{figures.p99_ms:.1f} ms {verdict}"
        )
        if args.rounds > 1:
            print(f"{'':<{width}} ratios by round: {', '.join(f'{r:.3f}' for r in page_ratios)}")
    if missed:
        print(f"\nbelow the goal: {', '.join(missed)}")


if __name__ == "__main__":
    main()
