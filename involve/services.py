"""Get Involved verbs: sign a letter and confirm it, comment and moderate, volunteer.

Reading pages is kept to one query each (the page with what it shows), so that the
campaign list, a campaign and a content page stay fast however many signatures and
comments they gather.
"""

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from babel.dates import format_date
from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from core import audit, clock
from core.db import db, locked
from core.errors import Conflict, NotFound
from core.mail.services import normalise_email, preferences_token, queue_email, record_consent
from core.money import BABEL_LOCALES
from core.tokens import InvalidLink, make_token, read_token
from core.urls import absolute_url
from involve.forms import NEWS_CONSENT_WORDING, normalise_postal_code
from involve.models import (
    Campaign,
    CampaignStatus,
    Comment,
    CommentStatus,
    ContentPage,
    Signature,
    SignatureStatus,
    Volunteer,
    comment_states,
)

#: How long a confirmation link works.
CONFIRM_MAX_AGE = 60 * 60 * 24 * 14
#: A second submission within this time sends no second email (no mail-bombing a stranger).
RESEND_AFTER = timedelta(minutes=10)


class CampaignClosed(Conflict):
    code = "campaign_closed"
    default_message = _l("This campaign is closed and no longer takes signatures.")


class CampaignNotOpen(Conflict):
    code = "campaign_not_open"
    default_message = _l("This campaign is not open for signatures yet.")


class CommentsClosed(Conflict):
    code = "comments_closed"
    default_message = _l("Comments are closed here.")


# -- dates and numbers as the visitor reads them ---------------------------------------------


def format_day(day, language="en"):
    """``April 30, 2020`` or ``30 avril 2020``."""
    return format_date(day, format="long", locale=BABEL_LOCALES.get(language, "en_CA"))


def format_count(number, language="en"):
    """``1,234`` or ``1 234`` (with a no-break space, as fr_CA writes it)."""
    return format_decimal(number, locale=BABEL_LOCALES.get(language, "en_CA"))


# -- reading ---------------------------------------------------------------------------------


def listed_campaigns():
    """Published campaigns, newest first: one query."""
    return db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.published.is_(True))
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    ).all()


def open_campaigns():
    today = clock.today()
    return db.session.scalars(
        sa.select(Campaign)
        .where(Campaign.published.is_(True), Campaign.starts_on <= today, Campaign.ends_on >= today)
        .order_by(Campaign.ends_on, Campaign.id)
    ).all()


def by_status(campaigns, today):
    """Campaigns grouped as open, upcoming and closed, for the list page."""
    groups = {status: [] for status in CampaignStatus}
    for campaign in campaigns:
        groups[campaign.status(today)].append(campaign)
    return groups


def campaign_by_slug(slug, *, preview=False):
    """A published campaign (any, for staff previewing), or 404."""
    campaign = db.session.scalar(sa.select(Campaign).where(Campaign.slug == slug))
    if campaign is None or not (campaign.published or preview):
        raise NotFound()
    return campaign


def page_by_slug(slug, *, preview=False):
    """A published page with its links, in one query, or 404."""
    page = db.session.scalar(
        sa.select(ContentPage)
        .options(joinedload(ContentPage.links))
        .where(ContentPage.slug == slug)
    )
    if page is None or not (page.published or preview):
        raise NotFound()
    return page


def approved_comments(target):
    """The approved comments on a page or a campaign, oldest first: one query."""
    column = Comment.page_id if isinstance(target, ContentPage) else Comment.campaign_id
    return db.session.scalars(
        sa.select(Comment)
        .where(column == target.id, Comment.status == CommentStatus.approved)
        .order_by(Comment.created_at, Comment.id)
    ).all()


# -- signing ---------------------------------------------------------------------------------


@dataclass
class SignRequest:
    name: str
    email: str
    postal_code: str
    personal_message: str = ""
    news_consent: bool = False
    language: str = "en"


def _language(value):
    return value if value in ("en", "fr") else "en"


def _clean_text(text):
    """What a person typed, with the line ends browsers send made plain."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def _one_line(text):
    """A name typed with a line break (pasted from an address book) kept on one line."""
    return " ".join((text or "").split())


def check_open(campaign):
    status = campaign.status(clock.today())
    if status == CampaignStatus.closed:
        raise CampaignClosed()
    if status == CampaignStatus.upcoming:
        raise CampaignNotOpen()


def sign_campaign(campaign, request):
    """Record a signature and email its confirmation link; the caller commits.

    One signature per email per campaign. Whether an address has already signed is told
    only to that address: the page says the same thing to everyone ("check your email"),
    and the email says either "confirm" or "you have already signed, thank you". A
    second try before confirming updates the unconfirmed signature and sends a new link.
    """
    check_open(campaign)
    email = normalise_email(request.email)
    fields = {
        "name": _one_line(request.name),
        "postal_code": normalise_postal_code(request.postal_code),
        "personal_message": _clean_text(request.personal_message),
        "news_consent": bool(request.news_consent),
        "language": _language(request.language),
    }
    signature = _existing_signature(campaign, email)
    if signature is None:
        signature = Signature(campaign_id=campaign.id, email=email, **fields)
        try:
            with db.session.begin_nested():  # a double click racing itself meets the unique key
                db.session.add(signature)
        except sa.exc.IntegrityError:
            signature = _existing_signature(campaign, email)
    elif signature.status == SignatureStatus.pending:
        for name, value in fields.items():
            setattr(signature, name, value)
    _send_confirmation(campaign, signature, already=signature.status != SignatureStatus.pending)
    db.session.flush()
    return signature


def _existing_signature(campaign, email):
    return db.session.scalar(
        sa.select(Signature).where(Signature.campaign_id == campaign.id, Signature.email == email)
    )


def _send_confirmation(campaign, signature, *, already):
    now = clock.now()
    if signature.confirmation_sent_at and now - signature.confirmation_sent_at < RESEND_AFTER:
        return None
    signature.confirmation_sent_at = now
    language = signature.language
    context = {"signature": signature, "campaign": campaign, "language": language}
    if already:
        template, subject = "involve/already_signed", _l("You have already signed this letter")
        context["campaign_url"] = absolute_url("involve.campaign", slug=campaign.slug)
    else:
        template, subject = "involve/confirm_signature", _l("Please confirm your signature")
        db.session.flush()  # the link carries the signature's id
        context["confirm_url"] = absolute_url(
            "involve.confirm", slug=campaign.slug, token=confirm_token(signature)
        )
    return queue_email(
        signature.email, template, subject=subject, language=language, context=context
    )


def confirm_token(signature):
    return make_token("signature", signature.id)


def signature_from_token(campaign, token):
    """The signature a confirmation link names, or :class:`InvalidLink`."""
    signature_id = read_token("signature", token, max_age=CONFIRM_MAX_AGE)
    signature = db.session.get(Signature, signature_id)
    if signature is None or signature.campaign_id != campaign.id:
        raise InvalidLink()
    return signature


def confirm_signature(signature):
    """Count a signature once: True the first time, False if it was already confirmed.

    The move and the count happen in one conditional UPDATE each, so that two clicks on
    the link, or two browsers, never count one person twice.
    """
    campaign = signature.campaign
    if signature.status == SignatureStatus.confirmed:
        return False
    check_open(campaign)
    now = clock.now()
    moved = db.session.execute(
        sa.update(Signature)
        .where(Signature.id == signature.id, Signature.status == SignatureStatus.pending)
        .values(status=SignatureStatus.confirmed, confirmed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.refresh(signature)
        return False
    db.session.execute(
        sa.update(Campaign)
        .where(Campaign.id == campaign.id)
        .values(signature_count=Campaign.signature_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(signature)
    db.session.refresh(campaign)
    if signature.news_consent:
        signature.consent_id = _record_news_consent(
            signature.email, signature.language, f"take action: {campaign.slug}"
        ).id
    audit.record("signature.confirmed", signature, data={"campaign": campaign.slug}, actor="signer")
    queue_email(
        signature.email,
        "involve/signature_confirmed",
        subject=_l("Thank you for signing"),
        language=signature.language,
        context={
            "signature": signature,
            "campaign": campaign,
            "language": signature.language,
            "campaign_url": absolute_url("involve.campaign", slug=campaign.slug),
            **news_links(signature.email, signature.news_consent),
        },
    )
    db.session.flush()
    return True


def _record_news_consent(email, language, source):
    with force_locale(language):
        wording = str(NEWS_CONSENT_WORDING)
    return record_consent(email, True, wording=wording, language=language, source=source)


def news_links(email, consented):
    """Unsubscribe and preferences links for an email to someone who asked for news.

    Any email such a person gets from us lets them leave the news list in one click.
    """
    if not consented:
        return {}
    token = preferences_token(email)
    return {
        "unsubscribe_url": absolute_url("mail.unsubscribe", token=token),
        "preferences_url": absolute_url("mail.preferences", token=token),
    }


# -- comments --------------------------------------------------------------------------------


@dataclass
class CommentRequest:
    name: str
    email: str
    body: str
    language: str = "en"


def add_comment(target, request):
    """Hold a comment on a page or a campaign for moderation."""
    if not target.comments_open:
        raise CommentsClosed()
    comment = Comment(
        name=_one_line(request.name),
        email=normalise_email(request.email),
        body=_clean_text(request.body),
        language=_language(request.language),
    )
    if isinstance(target, ContentPage):
        comment.page_id = target.id
    else:
        comment.campaign_id = target.id
    db.session.add(comment)
    db.session.flush()
    return comment


def comments_for_moderation(status, limit=200):
    """Comments in ``status`` with what they are about, oldest first for the queue."""
    order = Comment.id if status == CommentStatus.pending else Comment.id.desc()
    return db.session.scalars(
        sa.select(Comment)
        .options(joinedload(Comment.page), joinedload(Comment.campaign))
        .where(Comment.status == status)
        .order_by(order)
        .limit(limit)
    ).all()


def comment_counts():
    rows = db.session.execute(
        sa.select(Comment.status, sa.func.count()).group_by(Comment.status)
    ).all()
    counts = dict.fromkeys(CommentStatus, 0)
    counts.update({CommentStatus(status): count for status, count in rows})
    return counts


MODERATION_ACTIONS = {
    "approve": CommentStatus.approved,
    "reject": CommentStatus.rejected,
    "spam": CommentStatus.spam,
}


def moderate_comments(ids, action, *, moderator_id):
    """Move the chosen comments; tell each commenter the first time theirs is published.

    Returns how many comments changed.
    """
    new = MODERATION_ACTIONS[action]
    comments = locked(
        sa.select(Comment)
        .options(selectinload(Comment.page), selectinload(Comment.campaign))
        .where(Comment.id.in_(ids))
        .order_by(Comment.id)
    ).all()
    now = clock.now()
    changed = 0
    for comment in comments:
        if not comment_states.move(comment, new):
            continue
        changed += 1
        comment.moderated_at = now
        comment.moderated_by_id = moderator_id
        if new == CommentStatus.approved and comment.published_at is None:
            comment.published_at = now
            _tell_commenter(comment)
    db.session.flush()
    return changed


def comment_url(comment):
    target = comment.target
    endpoint = "involve.page" if comment.page_id is not None else "involve.campaign"
    return absolute_url(endpoint, slug=target.slug) + f"#comment-{comment.id}"


def _tell_commenter(comment):
    queue_email(
        comment.email,
        "involve/comment_published",
        subject=_l("Your comment is published"),
        language=comment.language,
        context={
            "comment": comment,
            "title": comment.target.text("title", comment.language),
            "url": comment_url(comment),
        },
    )


# -- volunteering ----------------------------------------------------------------------------


@dataclass
class VolunteerRequest:
    name: str
    email: str
    phone: str = ""
    languages: tuple = ()
    interests: tuple = ()
    availability: tuple = ()
    message: str = ""
    news_consent: bool = False
    language: str = "en"


def register_volunteer(request):
    """Keep a volunteer's sign-up, record their consent to news, and thank them by email."""
    language = _language(request.language)
    volunteer = Volunteer(
        name=_one_line(request.name),
        email=normalise_email(request.email),
        phone=_one_line(request.phone),
        languages=list(request.languages),
        interests=list(request.interests),
        availability=list(request.availability),
        message=_clean_text(request.message),
        language=language,
        news_consent=bool(request.news_consent),
    )
    db.session.add(volunteer)
    if volunteer.news_consent:
        volunteer.consent_id = _record_news_consent(volunteer.email, language, "volunteer form").id
    db.session.flush()
    queue_email(
        volunteer.email,
        "involve/volunteer_thanks",
        subject=_l("Thank you for volunteering"),
        language=language,
        context={"volunteer": volunteer, **news_links(volunteer.email, volunteer.news_consent)},
    )
    return volunteer
