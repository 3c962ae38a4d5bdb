"""Hosted pages: Checkout (pay or cancel) and the customer portal. Plain HTML forms."""

from datetime import UTC, datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from . import billing, charges, checkout
from .errors import StripeError
from .objects import CARDS, money

ROUTES = []

LABELS = {
    "en": {
        "title": "Checkout",
        "total": "Total",
        "email": "Email",
        "name": "Name on card",
        "card": "Test card",
        "pay": "Pay",
        "donate": "Donate",
        "subscribe": "Subscribe",
        "book": "Book",
        "cancel": "Cancel",
        "address": "Billing address",
        "line1": "Address",
        "city": "City",
        "state": "Province",
        "postal_code": "Postal code",
        "cards": {
            "success": "Succeeds",
            "decline": "Declined",
            "renewal_fails": "Succeeds now, every renewal fails",
        },
        "declined": "Your card was declined.",
        "email_required": "An email address is required.",
        "expired": "This checkout session has expired.",
        "paid": "This checkout session is already paid.",
        "missing": "No such checkout session.",
        "thanks": "Thank you, your payment went through.",
        "continue": "Continue",
        "per": {"day": "per day", "week": "per week", "month": "per month", "year": "per year"},
        "every": "every {n} {unit}s",
        "portal": "Your subscriptions",
        "update_card": "Update card",
        "cancel_subscription": "Cancel subscription",
        "return": "Return",
        "renews": "Renews on {date}",
        "ends": "Ends on {date}",
        "status": "Status",
        "none": "You have no active subscriptions.",
        "canceled_notice": "Your subscription will end at the close of this period.",
        "card_notice": "Your card was updated.",
        "quantity": "Quantity",
    },
    "fr": {
        "title": "Paiement",
        "total": "Total",
        "email": "Courriel",
        "name": "Nom sur la carte",
        "card": "Carte de test",
        "pay": "Payer",
        "donate": "Donner",
        "subscribe": "S'abonner",
        "book": "Réserver",
        "cancel": "Annuler",
        "address": "Adresse de facturation",
        "line1": "Adresse",
        "city": "Ville",
        "state": "Province",
        "postal_code": "Code postal",
        "cards": {
            "success": "Réussit",
            "decline": "Refusée",
            "renewal_fails": "Réussit maintenant, chaque renouvellement échoue",
        },
        "declined": "Votre carte a été refusée.",
        "email_required": "Une adresse courriel est requise.",
        "expired": "Cette session de paiement a expiré.",
        "paid": "Cette session de paiement est déjà payée.",
        "missing": "Session de paiement introuvable.",
        "thanks": "Merci, votre paiement a été accepté.",
        "continue": "Continuer",
        "per": {"day": "par jour", "week": "par semaine", "month": "par mois", "year": "par année"},
        "every": "tous les {n} {unit}",
        "portal": "Vos abonnements",
        "update_card": "Mettre à jour la carte",
        "cancel_subscription": "Annuler l'abonnement",
        "return": "Retour",
        "renews": "Renouvellement le {date}",
        "ends": "Se termine le {date}",
        "status": "Statut",
        "none": "Vous n'avez aucun abonnement actif.",
        "canceled_notice": "Votre abonnement prendra fin à la fin de cette période.",
        "card_notice": "Votre carte a été mise à jour.",
        "quantity": "Quantité",
    },
}
_UNITS_FR = {"day": "jours", "week": "semaines", "month": "mois", "year": "ans"}


def environment():
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def route(methods, rule):
    def register(handler):
        ROUTES.append((methods, rule, handler))
        return handler

    return register


def language(locale, request):
    """``fr`` for French sessions (or browsers, with ``auto``), else ``en``."""
    if locale in (None, "", "auto"):
        return request.accept_languages.best_match(["en", "fr"], default="en")
    return "fr" if locale.lower().startswith("fr") else "en"


def interval_label(recurring, lang):
    if not recurring:
        return ""
    unit, count = recurring["interval"], recurring["interval_count"]
    labels = LABELS[lang]
    if count == 1:
        return labels["per"][unit]
    return labels["every"].format(n=count, unit=_UNITS_FR[unit] if lang == "fr" else unit)


def day(timestamp):
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")


def render_page(sim, template, status=200, **context):
    html = sim.templates.get_template(template).render(**context)
    return Response(html, status=status, content_type="text/html; charset=utf-8")


# Checkout


@route(["GET", "POST"], "/c/pay/<id>")
def checkout_page(sim, request, id):
    store = sim.store
    with store.lock:
        session = store.get(id, "checkout.session")
        lang = language(session and session["locale"], request)
    t = LABELS[lang]
    if session is None:
        return render_page(sim, "message.html", 404, t=t, lang=lang, message=t["missing"])
    if session["status"] == "open" and session["expires_at"] <= sim.clock.now():
        sim.act(lambda ctx: checkout.expire_session(store, ctx, session))
    if session["status"] != "open":
        return _closed(sim, request, session, t, lang)
    form, error = request.form, None
    if request.method == "POST":
        address = {
            k: form.get(f"address-{k.replace('_', '-')}") or None
            for k in ("line1", "city", "state", "postal_code")
        }
        address["country"] = "CA"
        try:
            sim.act(
                lambda ctx: checkout.pay_session(
                    store,
                    ctx,
                    session,
                    form.get("card", "success"),
                    form.get("email"),
                    form.get("name"),
                    address if any(address.values()) else None,
                )
            )
        except checkout.Declined:
            error = t["declined"]
        except StripeError as e:
            if e.param != "email":
                return _closed(sim, request, session, t, lang)
            error = t["email_required"]
        if error is None:
            target = checkout.success_redirect(session)
            if target:
                return redirect(target, 303)
            return render_page(sim, "message.html", t=t, lang=lang, message=t["thanks"])
    with store.lock:
        customer = store.get(session["customer"], "customer") or {}
        items = checkout.session_line_items(store, session)
        lines = [
            {
                "description": li["description"],
                "quantity": li["quantity"],
                "amount": money(li["amount_total"], li["currency"], lang),
                "interval": interval_label(li["price"]["recurring"], lang),
            }
            for li in items
        ]
    submit = (
        session["submit_type"]
        if session["submit_type"] in ("donate", "book")
        else ("subscribe" if session["mode"] == "subscription" else "pay")
    )
    return render_page(
        sim,
        "checkout.html",
        402 if error else 200,
        t=t,
        lang=lang,
        session=session,
        lines=lines,
        total=money(session["amount_total"], session["currency"], lang),
        submit=t[submit],
        error=error,
        cards=CARDS,
        email=form.get("email") or session["customer_email"] or customer.get("email") or "",
        name=form.get("name", ""),
        ask_address=session["billing_address_collection"] == "required",
    )


def _closed(sim, request, session, t, lang):
    if session["status"] == "complete":
        status = 400 if request.method == "POST" else 200
        return render_page(
            sim,
            "message.html",
            status,
            t=t,
            lang=lang,
            message=t["paid"],
            link=checkout.success_redirect(session),
        )
    return render_page(
        sim, "message.html", 410, t=t, lang=lang, message=t["expired"], link=session["cancel_url"]
    )


# Customer portal

PORTAL_STATUSES = ("active", "past_due", "trialing", "unpaid", "incomplete")


@route(["GET"], "/p/session/<id>")
def portal_page(sim, request, id):
    store = sim.store
    with store.lock:
        bps = store.get(id, "billing_portal.session")
        if bps is None:
            return Response("No such portal session.", 404)
        lang = language(bps["locale"], request)
        t = LABELS[lang]
        subs = []
        for sub in store.all(
            "subscription",
            lambda o, x: o["customer"] == bps["customer"] and o["status"] in PORTAL_STATUSES,
        ):
            items = billing.items_of(store, sub)
            end = items[0]["current_period_end"]
            subs.append(
                {
                    "id": sub["id"],
                    "status": sub["status"],
                    "cancel_at_period_end": sub["cancel_at_period_end"],
                    "when": (t["ends"] if sub["cancel_at"] else t["renews"]).format(
                        date=day(sub["cancel_at"] or end)
                    ),
                    "items": [
                        {
                            "name": charges.product_name(store, i["price"]),
                            "quantity": i["quantity"],
                            "amount": money(
                                i["price"]["unit_amount"] * i["quantity"],
                                i["price"]["currency"],
                                lang,
                            ),
                            "interval": interval_label(i["price"]["recurring"], lang),
                        }
                        for i in items
                    ],
                }
            )
    notice = {"cancel": t["canceled_notice"], "card": t["card_notice"]}.get(
        request.args.get("done")
    )
    return render_page(
        sim, "portal.html", t=t, lang=lang, bps=bps, subs=subs, notice=notice, cards=CARDS
    )


@route(["POST"], "/p/session/<id>/subscriptions/<sub_id>/<action>")
def portal_action(sim, request, id, sub_id, action):
    store = sim.store
    with store.lock:
        bps = store.get(id, "billing_portal.session")
        sub = store.get(sub_id, "subscription")
    if (
        bps is None
        or sub is None
        or sub["customer"] != bps["customer"]
        or action not in ("cancel", "card")
    ):
        return Response("Not found.", 404)
    card = request.form.get("card", "success")
    if action == "card" and card not in ("success", "renewal_fails"):
        return Response("Unknown test card.", 400)
    if action == "cancel":
        sim.act(
            lambda ctx: billing.update_subscription(store, ctx, sub, {"cancel_at_period_end": True})
        )
    else:
        sim.act(lambda ctx: billing.set_subscription_card(store, ctx, sub, card))
    return redirect(f"/p/session/{id}?done={action}", 303)


@route(["GET"], "/")
def index(sim, request):
    return render_page(
        sim,
        "message.html",
        t=LABELS["en"],
        lang="en",
        message="Stripe simulator: the API is under /v1, controls under /_sim.",
    )
