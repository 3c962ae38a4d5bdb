"""The home page and the health checks."""

import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, redirect, render_template, url_for

from core import cache, panels
from core.db import db
from core.extensions import limiter

log = logging.getLogger(__name__)

bp = Blueprint("core", __name__)


@bp.route("/")
@cache.page(depends=lambda: panels.depends("home"))
def home():
    return render_template("home.html")


@bp.route("/favicon.ico")
def favicon():
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.route("/healthz")
def healthz():
    """Liveness: the process answers."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Readiness: the database answers. Redis is reported but does not decide.

    Without Redis every node counts rate limits in its own memory and keeps serving;
    answering 503 would take every node out of the load balancer at once and turn a
    Redis outage into a full outage.
    """
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable", redis=_redis()), 503
    redis = _redis()
    return jsonify(status="degraded" if redis == "degraded" else "ok", database="ok", redis=redis)


def _redis():
    if current_app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        return "not used"
    if limiter.storage.check():
        return "ok"
    log.error("Redis (rate-limit storage) is unreachable: limits hold per process only")
    return "degraded"
