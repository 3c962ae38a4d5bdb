"""Bringing in the members of an older system from a CSV file: all rows or none.

Every row is checked before anything is written; a file with one bad row imports nothing
and each problem is reported with its line number. Imported accounts have no password
(nothing is hashed, so thousands of rows import in seconds): each new member is emailed
a link to choose one.
"""

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass, field
from datetime import date

import email_validator
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from core import audit, clock
from core.accounts.models import User
from core.address import address_problems
from core.db import db
from core.mail.services import normalise_email, queue_email
from core.tokens import make_token, read_token
from core.urls import absolute_url
from members import dates
from members.models import (
    Dues,
    DuesMethod,
    DuesStatus,
    Membership,
    MondialFormat,
    Tier,
)
from members.validation import text_problem

REQUIRED = ("email", "name", "tier", "ends_on")
OPTIONAL = (
    "language",
    "started_on",
    "mondial_format",
    "address_line1",
    "address_line2",
    "city",
    "province",
    "postal_code",
    "country",
    "stripe_customer_id",
    "stripe_subscription_id",
)
COLUMNS = REQUIRED + OPTIONAL
MAX_ROWS = 20_000
#: The password of an imported account until its owner chooses one: never a valid hash.
UNSET_PREFIX = "!unset:"
SET_PASSWORD_MAX_AGE = 30 * 24 * 3600


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str


@dataclass
class Row:
    line: int
    email: str
    name: str
    tier: Tier
    ends_on: date | None
    started_on: date | None
    language: str
    mondial_format: MondialFormat
    address: dict
    customer_ref: str = ""
    recurring_ref: str = ""


@dataclass
class Checked:
    rows: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    digest: str = ""

    @property
    def ok(self):
        return not self.problems and bool(self.rows)


def _date(text):
    try:
        value = date.fromisoformat(text)
    except ValueError:
        return None
    return value if 2000 <= value.year <= 2100 else None


def _read(data):
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None, [Problem(1, "", str(_l("The file is not UTF-8 text.")))]
    if "\x00" in data:
        return None, [Problem(1, "", str(_l("The file is not a CSV text file.")))]
    reader = csv.DictReader(io.StringIO(data, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    reader.fieldnames = header
    problems = []
    for name in REQUIRED:
        if name not in header:
            problems.append(
                Problem(1, name, str(_l("The column “%(name)s” is missing.", name=name)))
            )
    for name in header:
        if name not in COLUMNS:
            problems.append(
                Problem(1, name, str(_l("The column “%(name)s” is not one we know.", name=name)))
            )
    return reader, problems


def check(data, *, progress=None):
    """Read and check a whole file; return the rows ready to import, or the problems."""
    reader, problems = _read(data)
    result = Checked(problems=list(problems))
    if reader is None or problems:
        return result
    raw = data if isinstance(data, bytes) else data.encode()
    result.digest = hashlib.sha256(raw).hexdigest()
    tiers = {t.slug: t for t in db.session.scalars(sa.select(Tier))}
    # A quoted cell may span lines: each row is named by the line it starts on.
    lines, start = [], 2
    for values in reader:
        lines.append((start, values))
        start = reader.line_num + 1
    if len(lines) > MAX_ROWS:
        result.problems.append(
            Problem(
                1, "", str(_l("Please import at most %(count)s rows at a time.", count=MAX_ROWS))
            )
        )
        return result
    seen_emails, seen_refs = {}, {}
    iterable = progress(lines) if progress else lines
    for line, values in iterable:
        row, found = _check_row(line, values, tiers, seen_emails, seen_refs)
        result.problems.extend(found)
        if row is not None:
            result.rows.append(row)
    _check_accounts(result)
    if not result.rows and not result.problems:
        result.problems.append(Problem(1, "", str(_l("The file has no members in it."))))
    return result


def _check_row(line, values, tiers, seen_emails, seen_refs):
    problems = []

    def bad(name, message):
        problems.append(Problem(line, name, str(message)))

    if None in values:
        bad("", _l("This line has more cells than the header."))
        return None, problems
    values = {k: (v or "").strip() for k, v in values.items()}
    email = normalise_email(values.get("email"))
    try:
        email_validator.validate_email(email, check_deliverability=False)
    except email_validator.EmailNotValidError:
        bad("email", _l("Please enter a valid email address."))
    else:
        if email in seen_emails:
            bad("email", _l("This address is already on line %(line)s.", line=seen_emails[email]))
        seen_emails.setdefault(email, line)
    name = values.get("name", "")
    if not name:
        bad("name", _l("The name is missing."))
    elif len(name) > 200:
        bad("name", _l("Please use at most %(max)s characters.", max=200))
    elif text_problem(name):
        bad("name", text_problem(name))
    tier = tiers.get(values.get("tier", "").lower())
    if tier is None:
        bad("tier", _l("There is no membership tier “%(slug)s”.", slug=values.get("tier", "")[:40]))
    ends_on = _date(values.get("ends_on", "")) if values.get("ends_on") else None
    if values.get("ends_on") and ends_on is None:
        bad("ends_on", _l("Please give the end date as YYYY-MM-DD."))
    elif ends_on is None and tier is not None and not tier.lifetime:
        bad("ends_on", _l("The end date is missing."))
    started_on = _date(values["started_on"]) if values.get("started_on") else None
    if values.get("started_on") and started_on is None:
        bad("started_on", _l("Please give the start date as YYYY-MM-DD."))
    elif started_on and ends_on and started_on > ends_on:
        bad("started_on", _l("The start date is after the end date."))
    language = (values.get("language") or "en").lower()
    if language not in ("en", "fr"):
        bad("language", _l("The language must be en or fr."))
    try:
        fmt = MondialFormat((values.get("mondial_format") or "print").lower())
    except ValueError:
        bad("mondial_format", _l("Mondial must be print, digital or none."))
        fmt = MondialFormat.print
    address = {
        "address_line1": values.get("address_line1", ""),
        "address_line2": values.get("address_line2", ""),
        "city": values.get("city", ""),
        "province": values.get("province", "").upper(),
        "postal_code": values.get("postal_code", "").upper(),
        "country": (values.get("country") or "CA").upper(),
    }
    for key, value in address.items():
        if text_problem(value):
            bad(key, text_problem(value))
        elif len(value) > 200:
            bad(key, _l("Please use at most %(max)s characters.", max=200))
    if fmt == MondialFormat.print:
        for key in ("address_line1", "city", "postal_code"):
            if not address[key]:
                bad(key, _l("Mondial in print needs a mailing address."))
        if address["city"] and address["postal_code"]:
            for key, message in address_problems(
                province=address["province"],
                postal_code=address["postal_code"],
                country=address["country"],
            ).items():
                bad(key, message)
    customer, recurring = (
        values.get("stripe_customer_id", ""),
        values.get("stripe_subscription_id", ""),
    )
    if customer or recurring:
        from payments.imported import recurring_reference_problem

        problem = recurring_reference_problem(customer, recurring)
        if problem:
            bad("stripe_subscription_id", problem)
        elif tier is not None and tier.lifetime:
            bad("stripe_subscription_id", _l("A life membership does not renew."))
        elif recurring in seen_refs:
            bad(
                "stripe_subscription_id",
                _l("This subscription is already on line %(line)s.", line=seen_refs[recurring]),
            )
        seen_refs.setdefault(recurring, line)
    if problems:
        return None, problems
    return Row(
        line=line,
        email=email,
        name=name,
        tier=tier,
        ends_on=ends_on,
        started_on=started_on,
        language=language,
        mondial_format=fmt,
        address=address,
        customer_ref=customer,
        recurring_ref=recurring,
    ), problems


def _chunks(items, size=500):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _check_accounts(result):
    """Refuse rows whose address already holds a membership; note existing accounts."""
    emails = [row.email for row in result.rows]
    users = {}
    held = set()
    for chunk in _chunks(emails):
        for user in db.session.scalars(sa.select(User).where(User.email.in_(chunk))):
            users[user.email] = user
        held.update(
            db.session.scalars(
                sa.select(User.email)
                .join(Membership, Membership.user_id == User.id)
                .where(User.email.in_(chunk))
            )
        )
    refs = [row.recurring_ref for row in result.rows if row.recurring_ref]
    from payments.imported import recurring_references_in_use

    taken = recurring_references_in_use(refs)
    kept = []
    for row in result.rows:
        if row.email in held:
            result.problems.append(
                Problem(row.line, "email", str(_l("This person already has a membership.")))
            )
        elif row.recurring_ref and row.recurring_ref in taken:
            result.problems.append(
                Problem(
                    row.line,
                    "stripe_subscription_id",
                    str(_l("This subscription already renews a membership or a gift.")),
                )
            )
        else:
            row.user = users.get(row.email)
            kept.append(row)
    result.rows = kept


def apply(checked, *, imported_by=None, progress=None):
    """Write the checked rows: accounts, memberships, their current terms, and the emails.

    The caller commits once, so a failure part-way leaves nothing behind.
    """
    if not checked.ok:
        raise ValueError("only a file with no problem can be imported")
    today = dates.today()
    now = clock.now()
    count = 0
    new_accounts = 0
    iterable = progress(checked.rows) if progress else checked.rows
    batch = []
    for row in iterable:
        user = getattr(row, "user", None)
        if user is None:
            user = User(
                email=row.email,
                password_hash=UNSET_PREFIX + secrets.token_urlsafe(18),
                name=row.name,
                language=row.language,
            )
            db.session.add(user)
            new_accounts += 1
            row.user = user
            row.new = True
        membership = Membership(
            user=user,
            tier=row.tier,
            status=dates.status_on(row.ends_on, today),
            started_on=row.started_on
            or (dates.add_years(row.ends_on, -1) if row.ends_on else today),
            ends_on=row.ends_on,
            price=row.tier.price,
            mondial_format=row.mondial_format,
            mailing_name=row.name,
            auto_renew=bool(row.recurring_ref),
            renews_on=row.ends_on if row.recurring_ref else None,
            note=f"Imported on {today.isoformat()}",
            **row.address,
        )
        db.session.add(membership)
        dues = Dues(
            membership=membership,
            tier=row.tier,
            status=DuesStatus.paid,
            method=DuesMethod.imported,
            amount=0,
            starts_on=membership.started_on,
            ends_on=row.ends_on,
            received_at=now,
            reference="import",
            recorded_by_id=imported_by.id if imported_by else None,
            language=row.language,
        )
        db.session.add(dues)
        batch.append((row, membership, dues))
        count += 1
        if len(batch) >= 500:
            _finish(batch)
            batch = []
    _finish(batch)
    audit.record(
        "members.imported",
        data={"count": count, "new_accounts": new_accounts, "sha256": checked.digest},
    )
    return count, new_accounts


def _finish(batch):
    from payments.imported import adopt_recurring

    db.session.flush()
    for row, membership, dues in batch:
        if row.recurring_ref:
            payment = adopt_recurring(
                purpose="membership",
                row_id=dues.id,
                amount=membership.price,
                customer_ref=row.customer_ref,
                recurring_ref=row.recurring_ref,
                email=row.email,
                name=row.name,
                language=row.language,
            )
            membership.recurring_payment_id = payment.id
        if getattr(row, "new", False):
            send_set_password(row.user, flush=False)
    db.session.flush()


def send_set_password(user, *, flush=True):
    token = make_token("member-set-password", {"id": user.id, "m": user.password_hash})
    return queue_email(
        user.email,
        "members/set_password",
        subject=_l("Your membership account: choose a password"),
        language=user.language,
        context={
            "user": user,
            "set_url": absolute_url("members.set_password", token=token),
            "org_name": current_app.config["ORG_NAME"],
        },
        flush=flush,
    )


def account_for_set_password(token):
    """The imported account a link names, while it still has no password."""
    from core.tokens import InvalidLink

    payload = read_token("member-set-password", token, max_age=SET_PASSWORD_MAX_AGE)
    user = db.session.get(User, payload.get("id"))
    if user is None or user.password_hash != payload.get("m"):
        raise InvalidLink(_l("This link has already been used or is no longer valid."))
    return user


def set_password(token, password):
    from core.accounts.services import hash_password, validate_password

    user = account_for_set_password(token)
    validate_password(password)
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or clock.now()
    audit.record("user.password_set", user, actor=user.email, actor_id=user.id)
    return user
