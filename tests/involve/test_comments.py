"""Comments: held until a moderator approves them, escaped, and kept from robots."""

import re

import pytest
import sqlalchemy as sa

from core import clock
from core.audit import AuditEntry
from core.db import db
from involve.models import Comment, CommentStatus
from tests.helpers import Mailbox, csrf_token, post_form

ROADMAP = "/pages/france-canada-peacekeeping-roadmap"


def comment(client, path=ROADMAP, **overrides):
    data = {
        "comment-name": "Marc Gagnon",
        "comment-email": "marc@example.org",
        "comment-body": "Canada should lead again.",
        **overrides,
    }
    return post_form(client, f"{path}/comments", data, token_from=path)


def comment_ids(app, status=None):
    with app.app_context():
        query = sa.select(Comment.id).order_by(Comment.id)
        if status is not None:
            query = query.where(Comment.status == status)
        return db.session.scalars(query).all()


def moderate(client, action, ids, status="pending"):
    return client.post(
        "/moderation/comments",
        data={
            "csrf_token": csrf_token(client, f"/moderation/comments?status={status}"),
            "action": action,
            "status": status,
            "ids": [str(i) for i in ids],
        },
    )


def test_the_form_shows_the_notice_above_it(client, content):
    page = client.get(ROADMAP).get_data(as_text=True)
    notice = page.index("Please note, comments must be approved before they are published")
    assert page.index("Leave a comment") < notice < page.index('id="comment-submit"')


def test_a_pending_comment_is_invisible_to_visitors_and_visible_to_moderators(
    app, client, content, signed_in
):
    response = comment(client)
    assert response.status_code == 303
    assert response.location.endswith(f"{ROADMAP}#comments")
    page = client.get(ROADMAP).get_data(as_text=True)
    assert "will appear once a moderator approves it" in page
    assert "Canada should lead again." not in page
    assert "No comments yet." in page

    moderator = signed_in("moderator")
    queue = moderator.get("/moderation/comments").get_data(as_text=True)
    assert "Canada should lead again." in queue
    assert "marc@example.org" in queue  # the moderator sees the address; visitors never do
    assert "Canada should lead again." not in moderator.get(ROADMAP).get_data(as_text=True)


def test_approving_publishes_the_comment_and_tells_the_commenter_once(
    app, client, content, signed_in, deliver, mailbox
):
    comment(client)
    [comment_id] = comment_ids(app)
    moderator = signed_in("moderator")
    response = moderate(moderator, "approve", [comment_id])
    assert response.status_code == 303
    assert "Comments changed: 1." in moderator.get(response.location).get_data(as_text=True)

    page = app.test_client().get(ROADMAP).get_data(as_text=True)
    assert f'id="comment-{comment_id}"' in page and "Canada should lead again." in page
    assert "marc@example.org" not in page  # never shown
    [told] = deliver().to("marc@example.org")
    assert told["Subject"] == "Your comment is published"
    assert any(link.endswith(f"{ROADMAP}#comment-{comment_id}") for link in Mailbox.links(told))

    # Hidden and shown again: the commenter is not told a second time.
    mailbox.clear()
    moderate(moderator, "reject", [comment_id], status="approved")
    assert "Canada should lead again." not in app.test_client().get(ROADMAP).get_data(as_text=True)
    moderate(moderator, "approve", [comment_id], status="rejected")
    assert deliver().to("marc@example.org") == []
    with app.app_context():
        moves = db.session.scalars(
            sa.select(AuditEntry.action).where(AuditEntry.target_type == "comment")
        ).all()
        assert moves == ["comment.approved", "comment.rejected", "comment.approved"]


def test_bulk_actions_move_only_the_ticked_comments(app, client, content, signed_in):
    for n in range(4):
        comment(client, **{"comment-body": f"Comment number {n}"})
    first, second, third, fourth = comment_ids(app)
    moderator = signed_in("moderator")
    moderate(moderator, "approve", [first, third])
    moderate(moderator, "spam", [second])
    assert comment_ids(app, CommentStatus.approved) == [first, third]
    assert comment_ids(app, CommentStatus.spam) == [second]
    assert comment_ids(app, CommentStatus.pending) == [fourth]
    spam = moderator.get("/moderation/comments?status=spam").get_data(as_text=True)
    assert "Comment number 1" in spam and "Comment number 3" not in spam


def test_one_button_per_comment_moves_just_that_one(app, client, content, signed_in):
    comment(client)
    comment(client, **{"comment-body": "Another"})
    first, second = comment_ids(app)
    moderator = signed_in("moderator")
    moderator.post(
        "/moderation/comments",
        data={
            "csrf_token": csrf_token(moderator, "/moderation/comments"),
            "one": f"reject:{second}",
            "ids": [str(first)],  # a ticked box elsewhere does not ride along
        },
    )
    assert comment_ids(app, CommentStatus.rejected) == [second]
    assert comment_ids(app, CommentStatus.pending) == [first]


@pytest.mark.parametrize(
    "data",
    [
        {"action": "delete", "ids": ["1"]},
        {"action": "", "ids": ["1"]},
        {"one": "publish:1"},
        {"status": "everything"},
    ],
)
def test_moderation_refuses_unknown_actions(app, client, content, signed_in, data):
    comment(client)
    moderator = signed_in("moderator")
    data = {"csrf_token": csrf_token(moderator, "/moderation/comments"), **data}
    assert moderator.post("/moderation/comments", data=data).status_code in (400, 404)
    assert comment_ids(app, CommentStatus.pending) == comment_ids(app)


def test_visitors_and_members_cannot_moderate(app, client, content, signed_in):
    comment(client)
    [comment_id] = comment_ids(app)
    visitor = client.get("/moderation/comments")
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]
    member = signed_in("member")
    assert member.get("/moderation/comments").status_code == 403
    response = member.post(
        "/moderation/comments",
        data={"csrf_token": csrf_token(member, ROADMAP), "action": "approve", "ids": [comment_id]},
    )
    assert response.status_code == 403
    assert comment_ids(app, CommentStatus.pending) == [comment_id]


def test_a_script_in_a_comment_is_shown_as_text(app, client, content, signed_in):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> & "quotes"'
    comment(client, **{"comment-body": hostile, "comment-name": "<b>Bold</b>"})
    moderator = signed_in("moderator")
    queue = moderator.get("/moderation/comments").get_data(as_text=True)
    assert "<script>alert" not in queue and "&lt;script&gt;alert" in queue
    moderate(moderator, "approve", comment_ids(app))
    page = app.test_client().get(ROADMAP).get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Bold</b>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;b&gt;Bold&lt;/b&gt;" in page


def test_line_breaks_are_kept_and_a_name_stays_on_one_line(app, client, content, signed_in):
    comment(
        client,
        **{"comment-name": "Marc\r\nGagnon", "comment-body": "First line.\r\n\r\nSecond line."},
    )
    with app.app_context():
        row = db.session.scalar(sa.select(Comment))
        assert (row.name, row.body) == ("Marc Gagnon", "First line.\n\nSecond line.")


def test_the_honeypot_stops_a_robot_without_blocking_a_person(app, client, content, deliver):
    robot = comment(client, **{"comment-website": "http://cheap-pills.example"})
    assert robot.status_code == 303  # thanked like anyone: it learns nothing
    assert comment_ids(app) == []
    person = comment(app.test_client(), **{"comment-website": ""})
    assert person.status_code == 303
    assert len(comment_ids(app)) == 1


def test_the_rate_limit_stops_a_flood_without_blocking_a_person(app, content):
    flood = app.test_client()
    token = csrf_token(flood, ROADMAP)
    answers = [
        flood.post(
            f"{ROADMAP}/comments",
            data={
                "csrf_token": token,
                "comment-name": "Bot",
                "comment-email": "bot@example.org",
                "comment-body": f"Buy now {n}",
            },
            environ_base={"REMOTE_ADDR": "203.0.113.9"},
        ).status_code
        for n in range(8)
    ]
    assert answers[:5] == [303] * 5 and answers[5:] == [429] * 3
    assert len(comment_ids(app)) == 5

    person = app.test_client()
    response = person.post(
        f"{ROADMAP}/comments",
        data={
            "csrf_token": csrf_token(person, ROADMAP),
            "comment-name": "Anne",
            "comment-email": "anne@example.org",
            "comment-body": "A real thought.",
        },
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 303
    assert len(comment_ids(app)) == 6


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"comment-body": "   "}, "Please write your comment."),
        ({"comment-email": "nope"}, "Please enter a valid email address."),
        ({"comment-name": ""}, "Please enter your name."),
        ({"comment-body": "x" * 5001}, "Please keep to 5000 characters."),
    ],
)
def test_bad_comments_get_a_clear_message(app, client, content, overrides, message):
    response = comment(client, **overrides)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert comment_ids(app) == []


def test_comments_on_a_campaign(app, client, content, signed_in):
    path = f"/take-action/{content['open']}"
    assert comment(client, path=path, **{"comment-body": "Signed and shared."}).status_code == 303
    moderator = signed_in("moderator")
    queue = moderator.get("/moderation/comments").get_data(as_text=True)
    assert "Keep Canada" in queue
    moderate(moderator, "approve", comment_ids(app))
    assert "Signed and shared." in app.test_client().get(path).get_data(as_text=True)


def test_comments_closed_refuses_politely(app, client, content):
    from involve.models import ContentPage

    with app.app_context():
        db.session.execute(sa.update(ContentPage).values(comments_open=False))
        db.session.commit()
    page = client.get(ROADMAP).get_data(as_text=True)
    assert "Comments are closed here." in page and "Leave a comment" not in page
    response = post_form(
        client,
        f"{ROADMAP}/comments",
        {"comment-name": "A", "comment-email": "a@example.org", "comment-body": "Hi"},
        token_from="/volunteer",
    )
    assert response.status_code == 409
    assert comment_ids(app) == []


def test_moderators_get_a_digest_of_new_comments_once(
    app, client, content, make_user, deliver, mailbox
):
    make_user(email="moe@example.org", role="moderator", name="Moe", language="fr")
    make_user(email="ada@example.org", role="admin")
    comment(client)
    comment(client, **{"comment-body": "Second thought"})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["involve", "moderation-digest"])
    assert "New comments in the digest: 2." in result.output
    assert (
        "New comments in the digest: 0."
        in runner.invoke(args=["involve", "moderation-digest"]).output
    )
    deliver()
    [digest] = mailbox.to("moe@example.org")
    assert digest["Subject"] == "Commentaires en attente de modération : 2"
    text = Mailbox.text(digest)
    assert "Second thought" in text and "/moderation/comments" in text
    assert mailbox.to("ada@example.org") == []  # there is a moderator: admins are spared

    mailbox.clear()
    clock.advance(hours=2)
    comment(client, **{"comment-body": "A third"})
    runner.invoke(args=["involve", "moderation-digest"])
    [later] = deliver().to("moe@example.org")
    assert re.search(r"3", later["Subject"])  # three wait in all
    assert "A third" in Mailbox.text(later) and "Second thought" not in Mailbox.text(later)


def test_the_admins_get_the_digest_when_there_is_no_moderator(
    app, client, content, make_user, deliver
):
    make_user(email="ada@example.org", role="admin")
    comment(client)
    with app.app_context():
        from involve.delivery import send_moderation_digest

        assert send_moderation_digest() == 1
        db.session.commit()
    assert len(deliver().to("ada@example.org")) == 1


def test_the_worker_sends_the_digest_and_the_account_page_shows_the_queue(
    app, client, content, signed_in, make_user
):
    from core.worker import run_due_tasks
    from tests.helpers import sign_in

    comment(client)
    moderator = signed_in("moderator")
    overview = moderator.get("/account").get_data(as_text=True)
    assert "1 comment is waiting for moderation." in overview
    assert 'href="/moderation/comments"' in overview
    with app.app_context():
        assert "involve.moderation_digest" in run_due_tasks()
        assert "involve.moderation_digest" not in run_due_tasks()  # hourly
    member = app.test_client()
    _, email, password = make_user(email="mia@example.org")
    sign_in(member, email, password)
    assert "waiting for moderation" not in member.get("/account").get_data(as_text=True)
