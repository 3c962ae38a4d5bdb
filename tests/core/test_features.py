"""The feature packages an installation serves come from ``FEATURES`` alone."""

import ast
from pathlib import Path

import pytest

from core import create_app
from tests.conftest import testing_environ as environ_for_tests

ROOT = Path(__file__).resolve().parents[2]


def build(features):
    return create_app(config={"FEATURES": features}, environ=environ_for_tests())


def rules(app):
    return {rule.rule for rule in app.url_map.iter_rules()}


def test_every_default_feature_is_served(app):
    served = rules(app)
    assert {"/donate", "/stripe/webhook", "/api/v1/donations"} <= served
    assert {"payments.sync", "payments.payouts", "payments.inbox"} <= set(
        app.extensions["worker_tasks"]
    )
    assert "donation" in app.extensions["payment_purposes"]


@pytest.mark.parametrize(
    ("features", "gone_rules", "gone_tasks", "gone_commands"),
    [
        (
            ("payments",),
            {"/donate", "/api/v1/donations", "/funds/<slug>"},
            set(),
            {"receipts"},
        ),
        (
            (),
            {"/donate", "/stripe/webhook", "/payments/return"},
            {"payments.sync", "payments.payouts", "payments.inbox"},
            {"receipts", "payments"},
        ),
    ],
)
def test_removing_a_package_removes_its_routes_tasks_and_commands(
    features, gone_rules, gone_tasks, gone_commands
):
    app = build(features)
    assert not gone_rules & rules(app)
    assert not gone_tasks & set(app.extensions.get("worker_tasks", {}))
    assert not gone_commands & set(app.cli.list_commands(None))
    assert "/login" in rules(app)  # the core is still there
    with app.test_client() as client:
        page = client.get("/")
        assert page.status_code == 200
        assert 'href="/donate"' not in page.get_data(as_text=True)  # nor its menu entry


def test_the_core_imports_no_feature():
    features = {"payments", "donations", "members", "shop", "involve", "treasurer", "people"}
    for path in (ROOT / "core").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] not in features, f"{path} imports {name}"


def test_features_may_come_from_the_environment():
    from config import load_config

    settings = load_config({"APP_ENV": "testing", "FEATURES": "payments, donations,"})
    assert settings["FEATURES"] == ("payments", "donations")
    assert load_config({"APP_ENV": "testing"})["FEATURES"][:2] == ("payments", "donations")
