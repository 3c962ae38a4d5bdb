"""Only ``payments`` speaks Stripe: no other module imports it, calls it or reads its fields."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Field names of Stripe's objects that our own rows and events never use as keys.
STRIPE_FIELDS = {
    "amount_paid",
    "amount_due",
    "balance_transaction",
    "billing_reason",
    "cancel_at",
    "cancel_at_period_end",
    "client_reference_id",
    "current_period_end",
    "current_period_start",
    "customer_details",
    "latest_charge",
    "latest_invoice",
    "next_payment_attempt",
    "parent",
    "payment_intent",
    "payment_status",
    "status_transitions",
    "subscription_details",
    "trial_end",
}


def modules_outside_payments():
    skip = {".venv", "tests", "payments", "migrations", "bench", "node_modules", ".git"}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in skip:
            continue
        yield path


def offences(tree):
    """``(line, what)`` for each way the module speaks Stripe."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "stripe" or alias.name == "payments.gateway":
                    found.append((node.lineno, f"import {alias.name}"))
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            names = {alias.name for alias in node.names}
            if module.split(".")[0] == "stripe" or module == "payments.gateway":
                found.append((node.lineno, f"from {module} import"))
            if module == "payments" and "gateway" in names:
                found.append((node.lineno, "from payments import gateway"))
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name == "gateway":
                found.append((node.lineno, "gateway()"))
            if (
                isinstance(func, ast.Attribute)
                and func.attr in {"get", "pop", "setdefault"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and node.args[0].value in STRIPE_FIELDS
            ):
                found.append((node.lineno, f".{func.attr}({node.args[0].value!r})"))
        elif isinstance(node, ast.Subscript):
            key = node.slice
            if isinstance(key, ast.Constant) and key.value in STRIPE_FIELDS:
                found.append((node.lineno, f"[{key.value!r}]"))
    return found


@pytest.mark.parametrize(
    "path", list(modules_outside_payments()), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_outside_payments_speaks_stripe(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    assert offences(tree) == []


@pytest.mark.parametrize(
    "source",
    [
        "import stripe",
        "from stripe import StripeClient",
        "from payments.gateway import gateway",
        "from payments import gateway",
        "x = gateway().retrieve_invoice('in_1')",
        "reason = invoice['billing_reason']",
        "end = item.get('current_period_end')",
        "sub = invoice['parent']['subscription_details']",
    ],
)
def test_the_check_catches_each_way_of_speaking_stripe(source):
    assert offences(ast.parse(source))


def test_the_check_sees_the_feature_packages():
    seen = {p.relative_to(ROOT).parts[0] for p in modules_outside_payments()}
    assert {"core", "donations", "members", "shop", "involve", "treasurer"} <= seen
