"""The home page and the health checks."""

import sqlalchemy as sa
from flask import Blueprint, jsonify, redirect, render_template, url_for

from core import cache, panels
from core.db import db

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
    """Readiness: the database answers."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
