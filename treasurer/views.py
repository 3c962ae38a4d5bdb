from flask import render_template

from core.accounts.access import role_required
from treasurer import bp


@bp.route("/")
@role_required("treasurer")
def dashboard():
    return render_template("treasurer/dashboard.html")
