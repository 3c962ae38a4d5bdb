from flask import render_template

from involve import bp


@bp.route("/get-involved")
def get_involved():
    return render_template("involve/get_involved.html")
