"""Builders for Stripe's objects at the pinned API version (ids, nulls and all)."""

from core import money as core_money

from .params import clean_metadata
from .store import new_id

DAY = 86400

#: The test cards the hosted page offers, by the name the control API uses.
CARDS = {
    "success": {"number": "4242 4242 4242 4242", "last4": "4242"},
    "decline": {"number": "4000 0000 0000 0002", "last4": "0002"},
    "renewal_fails": {"number": "4000 0000 0000 0341", "last4": "0341"},
}


def card_fee(config, amount):
    """Stripe's processing fee in cents: a percentage (half-up to the cent) plus a fixed part."""
    return core_money.card_fee(amount, config.fee_percent, config.fee_fixed)


def money(cents, currency, lang="en"):
    """``$1,234.50`` in English, ``1 234,50 $`` in French (the app's one money format)."""
    return core_money.format_money(cents, currency, locale=lang)


def list_object(data, url, has_more=False, total_count=None):
    obj = {"object": "list", "data": data, "has_more": has_more, "url": url}
    if total_count is not None:
        obj["total_count"] = total_count
    return obj


def address(values=None):
    values = values or {}
    return {
        key: values.get(key)
        for key in ("city", "country", "line1", "line2", "postal_code", "state")
    }


def product(now, name, description=None, metadata=None, active=True):
    return {
        "id": new_id("prod_", 14),
        "object": "product",
        "active": active,
        "created": now,
        "default_price": None,
        "description": description,
        "images": [],
        "livemode": False,
        "marketing_features": [],
        "metadata": metadata or {},
        "name": name,
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": "service",
        "unit_label": None,
        "updated": now,
        "url": None,
    }


def price(
    now,
    product_id,
    currency,
    unit_amount,
    recurring=None,
    *,
    metadata=None,
    nickname=None,
    lookup_key=None,
    active=True,
):
    if recurring is not None:
        recurring = {
            "interval": recurring["interval"],
            "interval_count": recurring.get("interval_count", 1),
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    return {
        "id": new_id("price_"),
        "object": "price",
        "active": active,
        "billing_scheme": "per_unit",
        "created": now,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": metadata or {},
        "nickname": nickname,
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }


def plan_from_price(p):
    """The legacy ``plan`` view of a recurring price, still present on items."""
    return {
        "id": p["id"],
        "object": "plan",
        "active": p["active"],
        "amount": p["unit_amount"],
        "amount_decimal": p["unit_amount_decimal"],
        "billing_scheme": "per_unit",
        "created": p["created"],
        "currency": p["currency"],
        "interval": p["recurring"]["interval"],
        "interval_count": p["recurring"]["interval_count"],
        "livemode": False,
        "metadata": p["metadata"],
        "meter": None,
        "nickname": p["nickname"],
        "product": p["product"],
        "tiers_mode": None,
        "transform_usage": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def checkout_line_item(p, quantity, description, metadata=None):
    amount = p["unit_amount"] * quantity
    return {
        "id": new_id("li_"),
        "object": "item",
        "adjustable_quantity": None,
        "amount_discount": 0,
        "amount_subtotal": amount,
        "amount_tax": 0,
        "amount_total": amount,
        "currency": p["currency"],
        "description": description,
        "metadata": metadata or {},
        "price": p,
        "quantity": quantity,
    }


def checkout_session(now, config, p, amount, currency):
    """A new open session from validated create params ``p``."""
    mode = p["mode"]
    id = new_id("cs_test_", 58)
    payment = mode == "payment"
    return {
        "id": id,
        "object": "checkout.session",
        "adaptive_pricing": None,
        "after_expiration": None,
        "allow_promotion_codes": p.get("allow_promotion_codes"),
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": p.get("billing_address_collection"),
        "cancel_url": p.get("cancel_url"),
        "client_reference_id": p.get("client_reference_id"),
        "client_secret": None,
        "collected_information": None,
        "consent": None,
        "consent_collection": None,
        "created": now,
        "currency": currency,
        "custom_fields": [],
        "custom_text": {
            "after_submit": None,
            "shipping_address": None,
            "submit": None,
            "terms_of_service_acceptance": None,
        },
        "customer": p.get("customer"),
        "customer_creation": p.get("customer_creation", "if_required") if payment else None,
        "customer_details": None,
        "customer_email": p.get("customer_email"),
        "discounts": [],
        "expires_at": p.get("expires_at", now + DAY),
        "invoice": None,
        "invoice_creation": {
            "enabled": bool(p.get("invoice_creation", {}).get("enabled")),
            "invoice_data": {
                "account_tax_ids": None,
                "custom_fields": None,
                "description": None,
                "footer": None,
                "issuer": None,
                "metadata": {},
                "rendering_options": None,
            },
        }
        if payment
        else None,
        "livemode": False,
        "locale": p.get("locale"),
        "metadata": clean_metadata(p.get("metadata")),
        "mode": mode,
        "origin_context": None,
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_configuration_details": None,
        "payment_method_options": {},
        "payment_method_types": p.get("payment_method_types") or ["card"],
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "saved_payment_method_options": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": p.get("submit_type"),
        "subscription": None,
        "success_url": p.get("success_url"),
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": p.get("ui_mode", "hosted_page"),
        "url": f"{config.public_url}/c/pay/{id}"
        if p.get("ui_mode", "hosted_page") == "hosted_page"
        else None,
        "wallet_options": None,
    }


def customer_details(email, name, addr):
    return {
        "address": address(addr),
        "business_name": None,
        "email": email,
        "individual_name": None,
        "name": name,
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    }


def customer(now, p):
    return {
        "id": new_id("cus_", 14),
        "object": "customer",
        "address": address(p["address"]) if p.get("address") else None,
        "balance": 0,
        "business_name": None,
        "created": now,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": p.get("description"),
        "discount": None,
        "email": p.get("email"),
        "individual_name": None,
        "invoice_prefix": new_id("", 8).upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": clean_metadata(p.get("metadata")),
        "name": p.get("name"),
        "next_invoice_sequence": 1,
        "phone": p.get("phone"),
        "preferred_locales": p.get("preferred_locales") or [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def billing_details(email, name, addr):
    return {"address": address(addr), "email": email, "name": name, "phone": None, "tax_id": None}


def payment_method(now, card, details, customer_id):
    return {
        "id": new_id("pm_"),
        "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": details,
        "card": {
            "brand": "visa",
            "checks": {
                "address_line1_check": None,
                "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": "US",
            "display_brand": "visa",
            "exp_month": 12,
            "exp_year": 2034,
            "fingerprint": new_id("", 16),
            "funding": "credit",
            "generated_from": None,
            "last4": CARDS[card]["last4"],
            "networks": {"available": ["visa"], "preferred": None},
            "wallet": None,
        },
        "created": now,
        "customer": customer_id,
        "livemode": False,
        "metadata": {},
        "type": "card",
    }


def payment_intent(
    now, amount, currency, *, customer, description=None, metadata=None, receipt_email=None
):
    id = new_id("pi_")
    return {
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{id}_secret_{new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": now,
        "currency": currency,
        "customer": customer,
        "description": description,
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": metadata or {},
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": receipt_email,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "requires_payment_method",
        "transfer_data": None,
        "transfer_group": None,
    }


def charge(now, config, pi, pm, *, succeeded):
    id = new_id("ch_")
    card = pm["card"]
    return {
        "id": id,
        "object": "charge",
        "amount": pi["amount"],
        "amount_captured": pi["amount"] if succeeded else 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": None,
        "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": config.account_name.upper()[:22],
        "captured": succeeded,
        "created": now,
        "currency": pi["currency"],
        "customer": pi["customer"],
        "description": pi["description"],
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None if succeeded else "card_declined",
        "failure_message": None if succeeded else "Your card was declined.",
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(pi["metadata"]),
        "on_behalf_of": None,
        "outcome": {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network" if succeeded else "declined_by_network",
            "reason": None if succeeded else "generic_decline",
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete."
            if succeeded
            else "The bank did not return any further details with this decline.",
            "type": "authorized" if succeeded else "issuer_declined",
        },
        "paid": succeeded,
        "payment_intent": pi["id"],
        "payment_method": pm["id"],
        "payment_method_details": {
            "card": {
                "amount_authorized": pi["amount"] if succeeded else None,
                "brand": card["brand"],
                "checks": card["checks"],
                "country": card["country"],
                "exp_month": card["exp_month"],
                "exp_year": card["exp_year"],
                "fingerprint": card["fingerprint"],
                "funding": card["funding"],
                "last4": card["last4"],
                "network": "visa",
                "network_transaction_id": new_id("", 15),
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "radar_options": {},
        "receipt_email": pi["receipt_email"],
        "receipt_number": None,
        "receipt_url": f"{config.public_url}/receipts/{id}",
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded" if succeeded else "failed",
        "transfer_data": None,
        "transfer_group": None,
    }


def balance_transaction(
    now,
    *,
    amount,
    currency,
    type,
    reporting_category,
    source,
    available_on=None,
    fee=0,
    fee_description=None,
    description=None,
):
    fee_details = []
    if fee:
        fee_details.append(
            {
                "amount": fee,
                "application": None,
                "currency": currency,
                "description": fee_description,
                "type": "stripe_fee",
            }
        )
    return {
        "id": new_id("txn_"),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now if available_on is None else available_on,
        "balance_type": "payments",
        "created": now,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": fee_details,
        "net": amount - fee,
        "reporting_category": reporting_category,
        "source": source,
        "status": "pending",
        "type": type,
    }


def refund(now, ch, amount, *, reason=None, metadata=None):
    return {
        "id": new_id("re_"),
        "object": "refund",
        "amount": amount,
        "balance_transaction": None,
        "charge": ch["id"],
        "created": now,
        "currency": ch["currency"],
        "description": None,
        "destination_details": {
            "card": {
                "reference": new_id("", 16),
                "reference_status": "available",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "failure_balance_transaction": None,
        "failure_reason": None,
        "metadata": metadata or {},
        "payment_intent": ch["payment_intent"],
        "pending_reason": None,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def dispute(now, ch, amount, reason):
    return {
        "id": new_id("dp_"),
        "object": "dispute",
        "amount": amount,
        "balance_transactions": [],
        "charge": ch["id"],
        "created": now,
        "currency": ch["currency"],
        "enhanced_eligibility_types": [],
        "evidence": {
            key: None
            for key in (
                "access_activity_log",
                "billing_address",
                "cancellation_policy",
                "cancellation_policy_disclosure",
                "cancellation_rebuttal",
                "customer_communication",
                "customer_email_address",
                "customer_name",
                "customer_purchase_ip",
                "customer_signature",
                "duplicate_charge_documentation",
                "duplicate_charge_explanation",
                "duplicate_charge_id",
                "product_description",
                "receipt",
                "refund_policy",
                "refund_policy_disclosure",
                "refund_refusal_explanation",
                "service_date",
                "service_documentation",
                "shipping_address",
                "shipping_carrier",
                "shipping_date",
                "shipping_documentation",
                "shipping_tracking_number",
                "uncategorized_file",
                "uncategorized_text",
            )
        },
        "evidence_details": {
            "due_by": now + 7 * DAY,
            "enhanced_eligibility": {},
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": ch["payment_intent"],
        "payment_method_details": {
            "card": {"brand": "visa", "case_type": "chargeback", "network_reason_code": "10.4"},
            "type": "card",
        },
        "reason": reason,
        "status": "needs_response",
    }


def subscription(now, customer_id, *, metadata=None, description=None, pm_id=None):
    return {
        "id": new_id("sub_"),
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": now,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": now,
        "currency": None,
        "customer": customer_id,
        "days_until_due": None,
        "default_payment_method": pm_id,
        "default_source": None,
        "default_tax_rates": [],
        "description": description,
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "latest_invoice": None,
        "livemode": False,
        "metadata": metadata or {},
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": now,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None,
    }


def subscription_item(now, sub_id, p, quantity, period):
    return {
        "id": new_id("si_", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": now,
        "current_period_end": period[1],
        "current_period_start": period[0],
        "discounts": [],
        "metadata": {},
        "plan": plan_from_price(p),
        "price": p,
        "quantity": quantity,
        "subscription": sub_id,
        "tax_rates": [],
    }


def invoice(now, config, cus, *, billing_reason, currency, period, subscription=None):
    id = new_id("in_")
    parent = None
    if subscription is not None:
        parent = {
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(subscription["metadata"]),
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        }
    return {
        "id": id,
        "object": "invoice",
        "account_country": "CA",
        "account_name": config.account_name,
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": "charge_automatically",
        "confirmation_secret": None,
        "created": now,
        "currency": currency,
        "custom_fields": None,
        "customer": cus["id"],
        "customer_address": cus["address"],
        "customer_email": cus["email"],
        "customer_name": cus["name"],
        "customer_phone": cus["phone"],
        "customer_shipping": None,
        "customer_tax_exempt": "none",
        "customer_tax_ids": [],
        "default_payment_method": None,
        "default_source": None,
        "default_tax_rates": [],
        "description": None,
        "discounts": [],
        "due_date": None,
        "effective_at": None,
        "ending_balance": None,
        "footer": None,
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": parent,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": period[1],
        "period_start": period[0],
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": None,
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": None,
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
    }


def invoice_line(invoice_id, p, quantity, description, period, *, sub_id=None, item_id=None):
    amount = p["unit_amount"] * quantity
    if item_id is not None:
        parent = {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": None,
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub_id,
                "subscription_item": item_id,
            },
            "type": "subscription_item_details",
        }
    else:
        parent = {
            "invoice_item_details": {
                "invoice_item": new_id("ii_"),
                "proration": False,
                "proration_details": {"credited_items": None},
                "subscription": sub_id,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        }
    return {
        "id": new_id("il_"),
        "object": "line_item",
        "amount": amount,
        "currency": p["currency"],
        "description": description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": False,
        "metadata": {},
        "parent": parent,
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": {"price": p["id"], "product": p["product"]},
            "type": "price_details",
            "unit_amount_decimal": p["unit_amount_decimal"],
        },
        "quantity": quantity,
        "subscription": sub_id,
        "subtotal": amount,
        "taxes": [],
    }


def invoice_payment(now, inv, pi):
    return {
        "id": new_id("inpay_"),
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": inv["amount_due"],
        "created": now,
        "currency": inv["currency"],
        "invoice": inv["id"],
        "is_default": True,
        "livemode": False,
        "payment": {"type": "payment_intent", "payment_intent": pi["id"]},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }


def portal_session(now, config, p):
    id = new_id("bps_")
    flow = None
    if p.get("flow_data"):
        flow = {
            "after_completion": {
                "hosted_confirmation": None,
                "redirect": None,
                "type": "portal_homepage",
            },
            "subscription_cancel": None,
            "subscription_update": None,
            "subscription_update_confirm": None,
            "type": p["flow_data"].get("type"),
        }
    return {
        "id": id,
        "object": "billing_portal.session",
        "configuration": "bpc_simulator",
        "created": now,
        "customer": p["customer"],
        "flow": flow,
        "livemode": False,
        "locale": p.get("locale"),
        "on_behalf_of": None,
        "return_url": p.get("return_url"),
        "url": f"{config.public_url}/p/session/{id}",
    }


def payout(now, amount, currency, *, automatic):
    return {
        "id": new_id("po_"),
        "object": "payout",
        "amount": amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": now + DAY,
        "automatic": automatic,
        "balance_transaction": None,
        "created": now,
        "currency": currency,
        "description": "STRIPE PAYOUT",
        "destination": "ba_simulatorbank",
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "payout_method": None,
        "reconciliation_status": "in_progress" if automatic else "not_applicable",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": "pending",
        "trace_id": {"status": "pending", "value": None},
        "type": "bank_account",
    }


def event(now, type, data, *, api_version, request_id, idempotency_key, pending):
    return {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": api_version,
        "created": now,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending,
        "request": {"id": request_id, "idempotency_key": idempotency_key},
        "type": type,
    }
