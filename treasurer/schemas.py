"""The JSON bodies of the treasurer's API: payouts and their lines."""

import marshmallow as ma


class PayoutSchema(ma.Schema):
    id = ma.fields.Integer()
    stripe_payout_id = ma.fields.String()
    amount = ma.fields.Integer(metadata={"description": "Cents."})
    currency = ma.fields.String()
    status = ma.fields.String(metadata={"description": "Stripe's status of the payout."})
    arrival_date = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    check = ma.fields.String(metadata={"enum": ["pending", "balanced", "unmatched", "mismatch"]})
    reconciled = ma.fields.Boolean()
    reconciled_at = ma.fields.DateTime(allow_none=True)
    reconciled_by = ma.fields.String(allow_none=True)
    line_count = ma.fields.Integer()
    unmatched_count = ma.fields.Integer()
    gross = ma.fields.Integer()
    fees = ma.fields.Integer()
    note = ma.fields.String()
    discrepancy = ma.fields.String(allow_none=True)


class PayoutListArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    state = ma.fields.String(
        load_default=None,
        validate=ma.validate.OneOf(
            ["awaiting", "reconciled", "balanced", "unmatched", "mismatch", "pending", "failed"]
        ),
    )
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 100_000))


class PayoutPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(PayoutSchema))
    page = ma.fields.Integer()
    pages = ma.fields.Integer()
    total = ma.fields.Integer()


class AllocationSchema(ma.Schema):
    purpose = ma.fields.String()
    row_id = ma.fields.Integer()
    amount = ma.fields.Integer()
    tax = ma.fields.Integer()
    description = ma.fields.String()


class LineSchema(ma.Schema):
    balance_transaction_id = ma.fields.String()
    type = ma.fields.String()
    kind = ma.fields.String()
    source_id = ma.fields.String(allow_none=True)
    amount = ma.fields.Integer()
    fee = ma.fields.Integer()
    net = ma.fields.Integer()
    created = ma.fields.DateTime()
    matched = ma.fields.Boolean()
    payment_id = ma.fields.Integer(allow_none=True)
    allocations = ma.fields.List(ma.fields.Nested(AllocationSchema))


class LineArgs(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(1, 100_000))


class PayoutDetailSchema(PayoutSchema):
    reason = ma.fields.String()
    lines = ma.fields.List(ma.fields.Nested(LineSchema))
    lines_page = ma.fields.Integer()
    lines_pages = ma.fields.Integer()
