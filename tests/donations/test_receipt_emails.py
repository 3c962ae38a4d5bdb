"""A receipt's PDF is drawn when its email is sent, from the receipt as it was issued."""

import sqlalchemy as sa

from core.db import db
from core.mail.models import OutboxAttachment
from donations import receipts
from donations.models import Receipt
from tests.donations.test_gifts import pdf_text


def test_the_receipt_pdf_is_drawn_by_the_sender_not_in_the_payments_transaction(
    app, give, stripe_sim, deliver, charity
):
    _, session_id = give(other_amount="40")
    stripe_sim.pay(session_id)
    with app.app_context():
        [queued] = db.session.scalars(sa.select(OutboxAttachment)).all()
        receipt = db.session.scalar(sa.select(Receipt))
        # Only what draws it is stored with the email: no PDF was drawn on the way in.
        assert queued.content is None
        assert queued.renderer == receipts.PDF_RENDERER
        assert queued.params == {"receipt_id": receipt.id}
        issued = receipts.pdf(receipt)
    [message] = deliver().to("dana@example.org")
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == f"receipt-{receipt.number}.pdf"
    assert attachment.get_content() == issued


def test_a_receipt_voided_before_its_email_goes_is_sent_as_it_was_issued(
    app, give, stripe_sim, deliver, charity
):
    _, session_id = give(other_amount="40")
    stripe_sim.pay(session_id)
    with app.app_context():
        receipt = db.session.scalar(sa.select(Receipt))
        receipts.void(receipt, "refunded")
        db.session.commit()
        assert "VOID" in pdf_text(receipts.pdf(receipt))
    [message] = [m for m in deliver().to("dana@example.org") if list(m.iter_attachments())]
    [attachment] = list(message.iter_attachments())
    text = pdf_text(attachment.get_content())
    assert "Official donation receipt for income tax purposes" in text and "$40.00" in text
    assert "VOID" not in text and "refunded" not in text


def test_an_email_whose_attachment_cannot_be_drawn_is_retried_not_sent_without_it(
    app, give, stripe_sim, deliver, charity
):
    from core.mail.models import MailStatus, OutboxMessage

    _, session_id = give(other_amount="40")
    stripe_sim.pay(session_id)
    with app.app_context():
        db.session.execute(sa.update(OutboxAttachment).values(renderer="nobody.draws_this"))
        db.session.commit()
    assert deliver().to("dana@example.org") == []
    with app.app_context():
        [row] = db.session.scalars(sa.select(OutboxMessage)).all()
        assert row.status == MailStatus.pending and "nobody.draws_this" in row.last_error
