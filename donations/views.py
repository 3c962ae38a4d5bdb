"""Donating, the thank-you page, funds, managing a monthly gift, receipts."""

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import cache, clock, throttle
from core.db import db
from core.errors import DomainError
from core.extensions import limiter
from core.i18n import current_language
from core.money import parse_amount
from core.tokens import ExpiredLink
from core.urls import absolute_url
from donations import bp, charges, gifts, receipts, settings
from donations.caching import DONATE_FORM, FUND_PAGES
from donations.forms import ChangeAmountForm, DonateForm
from donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus
from donations.staff_forms import plain_amount


def _donate_form(**kwargs):
    low, high = settings.limits()
    return DonateForm(
        **kwargs,
        presets=settings.setting("donations.presets"),
        funds=gifts.active_funds(),
        language=current_language(),
        limits=(low, high),
    )


def _prefill(form):
    """A signed-in member gets their details filled in, from their last gift if any."""
    form.fund.data = request.args.get("fund") or (
        form.fund.choices[0].value if form.fund.choices else None
    )
    form.amount_choice.data = request.args.get("amount") or str(
        settings.setting("donations.presets")[0]
    )
    if request.args.get("monthly") == "1":
        form.frequency.data = "monthly"
    if not current_user.is_authenticated:
        return
    form.donor_name.data = current_user.name
    form.email.data = current_user.email
    last = db.session.scalar(
        sa.select(Donation).where(Donation.user_id == current_user.id).order_by(Donation.id.desc())
    )
    if last is not None:
        for name in (
            "address_line1",
            "address_line2",
            "city",
            "province",
            "postal_code",
            "country",
            "organization_name",
        ):
            getattr(form, name).data = getattr(last, name)


@bp.route("/donate", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@cache.page(depends=DONATE_FORM)
def donate():
    if request.method == "GET":
        form = _donate_form(formdata=None)
        _prefill(form)
    elif (form := _donate_form()).validate():
        monthly = form.frequency.data == "monthly"
        try:
            donation = gifts.start_donation(
                gifts.GiftRequest(
                    amount=form.amount_cents,
                    fund=gifts.fund_by_slug(form.fund.data),
                    monthly=monthly,
                    cover_fee=form.cover_fee.data,
                    anonymous=form.anonymous.data,
                    tribute_kind=form.tribute_kind.data or None,
                    tribute_name=form.tribute_name.data or "",
                    tribute_notify_email=form.tribute_notify_email.data or "",
                    donor_name=form.donor_name.data,
                    organization_name=form.organization_name.data or "",
                    email=form.email.data,
                    address_line1=form.address_line1.data,
                    address_line2=form.address_line2.data or "",
                    city=form.city.data,
                    province=form.province.data,
                    postal_code=form.postal_code.data,
                    country=form.country.data,
                    news_consent=form.news_consent.data,
                    # One receipt a year is a choice for monthly gifts only.
                    annual_receipt=monthly and form.annual_receipt.data,
                    language=current_language(),
                    user_id=current_user.id if current_user.is_authenticated else None,
                )
            )
        except DomainError as error:
            target = getattr(form, error.field or "", None) or form.amount_choice
            target.errors = [*target.errors, str(error.message)]
        else:
            return _to_checkout(donation)
    status = 400 if request.method == "POST" else 200
    return _render_donate(form), status


#: The donate form's fields in the order the page shows them (for the error summary).
FIELD_ORDER = (
    "frequency",
    "amount_choice",
    "fund",
    "cover_fee",
    "annual_receipt",
    "tribute_kind",
    "tribute_name",
    "tribute_notify_email",
    "donor_name",
    "email",
    "organization_name",
    "address_line1",
    "address_line2",
    "city",
    "province",
    "postal_code",
    "country",
)


def _charge_text(form):
    """What the form's choices will charge, in words; empty while the amount is not valid."""
    if form.amount_cents is None:
        try:
            form.validate_amount_choice(form.amount_choice)
        except ValueError:
            return ""
    if form.amount_cents is None:
        return ""
    charge = charges.charge_for(
        form.amount_cents, bool(form.cover_fee.data), monthly=form.frequency.data == "monthly"
    )
    return charges.describe(charge, current_language())


def _render_donate(form):
    percent, fixed = settings.fee_rate()
    return render_template(
        "donations/donate.html",
        form=form,
        consent_wording=gifts.NEWS_CONSENT_WORDING,
        fee_percent=format_decimal(percent, locale=get_locale()),
        fee_fixed=fixed,
        charge_text=_charge_text(form),
        field_order=FIELD_ORDER,
    )


@bp.route("/donate/charge")
def charge():
    """What the donate form's current choices will charge, in words (its script asks)."""
    form = _donate_form(formdata=request.args, meta={"csrf": False})
    response = jsonify(text=_charge_text(form))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/donate/back/<token>")
@limiter.limit(lambda: current_app.config["RETURN_PAGE_LIMIT"])
def came_back(token):
    """Back from Stripe through Cancel: close that checkout and show the form as it was.

    The checkout is expired at Stripe, so a copy of its page left open in another tab
    cannot be paid later beside the gift the donor now makes again.
    """
    donation = gifts.donation_from_return_token(token)
    if not gifts.abandon_checkout(donation):
        flash(_("Your payment went through after all: thank you for your gift!"), "success")
        return redirect(url_for("donations.thanks", session_id=gifts.session_of(donation)))
    form = _donate_form(formdata=None)
    _fill_from(form, donation)
    flash(
        _("You cancelled the payment: nothing was charged. Your gift is filled in below."), "info"
    )
    response = make_response(_render_donate(form))
    response.headers["Cache-Control"] = "no-store"
    return response


def _fill_from(form, donation):
    """The form as the donor filled it for ``donation``."""
    gift = donation.monthly_gift
    if str(donation.amount) in {c.value for c in form.amount_choice.choices}:
        form.amount_choice.data = str(donation.amount)
    else:
        form.amount_choice.data = "other"
        form.other_amount.data = plain_amount(donation.amount, current_language())
    form.frequency.data = "monthly" if gift is not None else "one_time"
    form.fund.data = donation.fund.slug
    form.cover_fee.data = donation.fee_covered > 0
    form.annual_receipt.data = gift.annual_receipt if gift is not None else True
    form.anonymous.data = donation.anonymous
    form.tribute_kind.data = donation.tribute_kind.value if donation.tribute_kind else ""
    form.tribute_name.data = donation.tribute_name
    form.tribute_notify_email.data = donation.tribute_notify_email
    form.news_consent.data = donation.consent_id is not None
    for name in (
        "donor_name",
        "organization_name",
        "email",
        "address_line1",
        "address_line2",
        "city",
        "province",
        "postal_code",
        "country",
    ):
        getattr(form, name).data = getattr(donation, name)


def _to_checkout(donation):
    url = gifts.open_checkout(donation)
    return redirect(url, code=303)


@bp.route("/donate/thanks")
@limiter.limit(lambda: current_app.config["RETURN_PAGE_LIMIT"])
def thanks():
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_"):
        abort(404)
    donation = gifts.donation_for_session(session_id)
    if donation is None:
        abort(404)
    # The address holds only Stripe's session id, which may end up in a shared history:
    # the receipt and the link to manage a monthly gift go by email, not on this page.
    return render_template("donations/thanks.html", donation=donation)


@bp.route("/funds")
@cache.page(depends=FUND_PAGES)
def funds():
    return render_template(
        "donations/funds.html", funds=gifts.active_funds(), raised=gifts.raised_by_fund()
    )


@bp.route("/funds/<slug>")
@cache.page(depends=FUND_PAGES)
def fund(slug):
    fund = gifts.fund_by_slug(slug)
    return render_template(
        "donations/fund.html", fund=fund, raised=gifts.raised_by_fund().get(fund.id, 0)
    )


def _local_day(moment):
    """The day of ``moment`` where the organization is, written in the page's language."""
    return format_date(clock.local_date(moment), "long") if moment is not None else None


def _render_manage(gift, token, form):
    """The gift as it stands, offering only what can still be done with it."""
    running = gift.status in (MonthlyStatus.active, MonthlyStatus.past_due)
    if running and gift.ends_at_period_end:
        state = "ending"
    else:
        state = gift.status.value
    return render_template(
        "donations/manage.html",
        gift=gift,
        token=token,
        form=form,
        state=state,
        ends_on=_local_day(gift.paid_through) if state == "ending" else None,
        next_payment_on=_local_day(gift.paid_through) if state in ("active", "past_due") else None,
        ended_on=_local_day(gift.cancelled_at) if state == "cancelled" else None,
    )


def _masked(email):
    """``d•••@example.org``: enough for the donor to know the address, not for another."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


@bp.route("/donate/manage/<token>")
def manage(token):
    try:
        gift = gifts.gift_from_manage_token(token)
    except ExpiredLink:
        gift = gifts.gift_from_manage_token(token, expired_too=True)
        return render_template(
            "donations/manage_expired.html", token=token, email=_masked(gift.email)
        ), 400
    return _render_manage(gift, token, ChangeAmountForm())


@bp.route("/donate/manage/<token>/fresh-link", methods=["POST"])
@limiter.limit("5 per hour")
def fresh_manage_link(token):
    """An expired manage link: a new one goes to the gift's own address, never elsewhere."""
    gift = gifts.gift_from_manage_token(token, expired_too=True)
    gifts.send_manage_link(gift)
    return render_template(
        "donations/manage_expired.html", token=token, email=_masked(gift.email), sent=True
    )


@bp.route("/donate/manage/<token>/amount", methods=["POST"])
def change_amount(token):
    gift = gifts.gift_from_manage_token(token)
    form = ChangeAmountForm()
    if form.validate_on_submit():
        try:
            low, high = settings.limits()
            amount = parse_amount(
                form.amount.data, locale=current_language(), min_cents=low, max_cents=high
            )
            gifts.change_monthly_amount(gift, amount)
        except DomainError as error:
            form.amount.errors = [*form.amount.errors, str(error.message)]
        else:
            flash(
                _("Your monthly gift is changed. The new amount applies from the next month."),
                "success",
            )
            return redirect(url_for("donations.manage", token=token))
    return _render_manage(gift, token, form), 400


@bp.route("/donate/manage/<token>/keep", methods=["POST"])
def resume(token):
    """Undo a cancellation before the last month ends."""
    gift = gifts.gift_from_manage_token(token)
    gifts.resume_monthly_gift(gift)
    flash(_("Your monthly gift goes on. Thank you!"), "success")
    return redirect(url_for("donations.manage", token=token))


@bp.route("/donate/manage/<token>/portal", methods=["POST"])
def portal(token):
    """Stripe's customer portal: update the card or cancel the monthly gift."""
    gift = gifts.gift_from_manage_token(token)
    url = gifts.portal_url(gift, absolute_url("donations.portal_return", token=token))
    return redirect(url, code=303)


@bp.route("/donate/manage/<token>/back")
@limiter.limit(lambda: current_app.config["RETURN_PAGE_LIMIT"])
def portal_return(token):
    """Back from the portal: show the gift as the donor just left it, not as it was."""
    gift = gifts.gift_from_manage_token(token)
    gifts.refresh_monthly_gift(gift)
    return redirect(url_for("donations.manage", token=token))


@bp.route("/receipts/<token>.pdf")
def receipt_pdf(token):
    """A receipt by its signed link (emailed to the donor, shown in their account)."""
    receipt, expired = receipts.from_link(token)
    if receipt is None:
        abort(404)
    if expired:
        response = make_response(
            render_template("donations/receipt_link_expired.html", token=token), 410
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    response = make_response(receipts.pdf(receipt))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{receipts.filename(receipt)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/receipts/<token>/new-link", methods=["POST"])
@limiter.limit("10 per hour")
def new_receipt_link(token):
    """An expired receipt link: email a fresh one to the address the receipt went to."""
    receipt, _expired = receipts.from_link(token)
    if receipt is None:
        abort(404)
    wait = throttle.email_wait("receipt_link", receipt.id, receipt.email)
    if not wait:
        receipts.send_link(receipt)
    response = make_response(
        render_template("donations/receipt_link_sent.html", wait_minutes=-(-wait // 60))
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/account/gifts")
@login_required
def my_gifts():
    """The member's own gifts, receipts and monthly gifts (by account, or by confirmed email)."""
    mine = sa.or_(Donation.user_id == current_user.id, Donation.email == current_user.email)
    donations = db.session.scalars(
        sa.select(Donation)
        .where(mine, Donation.status != DonationStatus.pending)
        .order_by(Donation.received_at.desc().nulls_last(), Donation.id.desc())
    ).all()
    monthly = db.session.scalars(
        sa.select(MonthlyGift)
        .where(
            sa.or_(MonthlyGift.user_id == current_user.id, MonthlyGift.email == current_user.email),
            MonthlyGift.status != MonthlyStatus.pending,
        )
        .order_by(MonthlyGift.id.desc())
    ).all()
    return render_template(
        "donations/my_gifts.html",
        donations=donations,
        gifts=monthly,
        manage_token=gifts.manage_token,
    )
