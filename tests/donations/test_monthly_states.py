"""A monthly gift's states: every move allowed or refused, and each move audited."""

import pytest
import sqlalchemy as sa

from core.audit import AuditEntry
from core.db import db
from core.errors import IllegalTransition
from donations.models import Fund, MonthlyGift, MonthlyStatus, monthly_gift_states

P, A, D, C = (
    MonthlyStatus.pending,
    MonthlyStatus.active,
    MonthlyStatus.past_due,
    MonthlyStatus.cancelled,
)
ALLOWED = {(P, A), (P, C), (A, D), (A, C), (D, A), (D, C), (C, A)}


@pytest.mark.parametrize(
    ("current", "new"),
    [(current, new) for current in MonthlyStatus for new in MonthlyStatus if current != new],
    ids=lambda s: s.value,
)
def test_each_move_is_allowed_or_refused_and_audited(app, funds, current, new):
    with app.app_context():
        gift = MonthlyGift(
            fund=db.session.scalar(sa.select(Fund)),
            amount=1000,
            charged=1000,
            donor_name="Eve",
            email="eve@example.org",
            status=current,
        )
        db.session.add(gift)
        db.session.flush()
        if (current, new) in ALLOWED:
            assert monthly_gift_states.move(gift, new, actor="stripe") is True
            entry = db.session.scalar(sa.select(AuditEntry))
            assert entry.action == f"monthly_gift.{new.value}"
            assert entry.data == {"from": current.value, "to": new.value}
        else:
            with pytest.raises(IllegalTransition):
                monthly_gift_states.move(gift, new, actor="stripe")
            assert gift.status == current
        assert monthly_gift_states.move(gift, gift.status) is False  # staying is no move
        db.session.rollback()


def test_no_code_assigns_a_monthly_gift_status_by_hand():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "donations"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Attribute) and target.attr == "status":
                        value = ast.unparse(node.value)
                        assert "MonthlyStatus" not in value, f"{path}:{node.lineno}"
