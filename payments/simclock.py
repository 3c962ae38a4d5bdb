"""Development and tests only: the simulator moves the app's clock when it moves its own."""

from flask import jsonify, request

from core import clock


def set_clock():
    offset = request.get_json(silent=True) or {}
    try:
        clock.set_offset(int(offset.get("offset", 0)))
    except (TypeError, ValueError):
        return jsonify(error={"code": "bad_offset", "message": "offset must be seconds"}), 400
    return jsonify(offset=clock.offset_seconds())


def register(app):
    if app.config["APP_ENV"] == "production":
        return
    from core.extensions import csrf

    app.add_url_rule("/_sim/clock", "sim_clock", csrf.exempt(set_clock), methods=["POST"])
