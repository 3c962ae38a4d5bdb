"""One person's record across every feature: find it, show it, export, merge and erase it.

``core`` knows no feature, so each feature registers a :class:`Provider` that knows its own
rows about a person. A person's record is their account (if any) and every row that carries
one of their email addresses (case-insensitive) or is linked to the account; the addresses
are the account's, the one asked for, and those merged into it earlier (:class:`PersonAlias`).

Merging moves record B's rows into record A; erasing anonymises what the law does not ask
us to keep. Both are audited, with the staff member's reason.
"""

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from core import audit
from core.db import UTCDateTime, db, is_postgres, utcnow
from core.errors import DomainError, NotFound, ValidationError
from core.validators import normalise_email

#: The domain of the addresses that replace an erased person's (RFC 2606: never delivered).
ERASED_DOMAIN = "erased.invalid"
#: The domain of the address an account merged into another is left with.
MERGED_DOMAIN = "merged.invalid"
#: How many people a search lists at most.
SEARCH_LIMIT = 50
#: The PostgreSQL advisory lock that merges and erasures take in turn.
CHANGES_LOCK = 0x7065_6F70_6C65  # "people"


class PersonAlias(db.Model):
    """An address merged into another person's record: its rows now carry ``into_email``.

    Facts about an address (consents given for it, emails sent to it) stay with it, as CASL
    asks; the alias is what still shows them on the record they were merged into.
    """

    __tablename__ = "person_alias"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    into_email: Mapped[str] = mapped_column(sa.String(254), index=True)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    merged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))


class CannotErase(DomainError):
    status = 409
    code = "cannot_erase"
    default_message = _l("This record cannot be erased yet.")


class CannotMerge(DomainError):
    status = 409
    code = "cannot_merge"
    default_message = _l("These records cannot be merged.")


@dataclass(frozen=True)
class Person:
    """Whom a record is about: their addresses (the first is the main one) and account."""

    emails: tuple[str, ...]
    user: Any = None

    @property
    def email(self):
        return self.emails[0]

    @property
    def user_id(self):
        return self.user.id if self.user is not None else None


@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    #: How the page shows it: text, money (cents), date, datetime, bool or list.
    kind: str = "text"
    #: Only in the exports: too long for the page (an email's text).
    detail: bool = False
    #: What the page shows for each stored value (a status, a kind); exports keep the value.
    labels: Any = field(default=None, compare=False)


@dataclass
class Section:
    """One kind of row about a person, as a feature describes it: for the page and exports."""

    key: str
    title: Any
    columns: list[Column]
    rows: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Provider:
    """What a feature knows about people. Every function is optional but ``sections``.

    - ``sections(person)``: the feature's rows, in a fixed number of queries;
    - ``search(term, limit)``: ``(email, name)`` pairs whose address or name holds ``term``;
    - ``blockers(person)``: why erasing must wait (an active monthly gift), as messages;
    - ``erase(person, placeholder)``: anonymise or delete; returns ``{what: count}``;
    - ``merge(source, target)``: move the source's rows to the target; ``{what: count}``.
    """

    key: str
    sections: Callable[[Person], list[Section]]
    search: Callable[[str, int], list[tuple[str, str]]] | None = None
    blockers: Callable[[Person], list[str]] | None = None
    erase: Callable[[Person, str], dict[str, int]] | None = None
    merge: Callable[[Person, Person], dict[str, int]] | None = None
    order: int = 100


def register(app, provider):
    """Add a feature's provider; features call this from their ``init_app``."""
    app.extensions.setdefault("people", {})[provider.key] = provider


def providers():
    found = current_app.extensions.get("people", {}).values()
    return sorted(found, key=lambda p: (p.order, p.key))


def matches(column, person):
    """The condition that ``column`` holds one of the person's addresses, in any case."""
    return sa.func.lower(column).in_(person.emails)


def belongs(email_column, user_column, person):
    """A row carries one of the person's addresses or is linked to their account."""
    if person.user_id is None:
        return matches(email_column, person)
    return sa.or_(matches(email_column, person), user_column == person.user_id)


def update_rows(model, *where, **values):
    """``UPDATE model SET values WHERE where`` in one statement; how many rows it changed.

    Merges and erasures change many rows at once and read them back afterwards, so the
    session's copies are not brought up to date one by one."""
    return db.session.execute(
        sa.update(model).where(*where).values(**values).execution_options(synchronize_session=False)
    ).rowcount


def like(term):
    """A LIKE pattern for ``term`` anywhere, its wildcards taken literally (with
    :func:`holds`, which names the escape character: SQLite has none by default)."""
    escaped = term.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def holds(column, term):
    """The condition that ``column`` holds ``term`` anywhere, in any case."""
    return sa.func.lower(column).like(like(term), escape="\\")


def search_rows(term, limit, email_column, name_column, *also):
    """A provider's search: ``(email, name)`` of the rows whose address, name or any column
    of ``also`` holds ``term``, by address."""
    columns = (email_column, name_column, *also)
    return list(
        db.session.execute(
            sa.select(email_column, name_column)
            .where(sa.or_(*(holds(column, term) for column in columns)))
            .distinct()
            .order_by(email_column)
            .limit(limit)
        )
    )


# -- finding a person --------------------------------------------------------------------------


def _user_by_email(email):
    from core.accounts.models import User

    return db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == email))


def find_person(email):
    """The record of ``email``: its account and the addresses merged into it.

    An address merged into another record finds that record.
    """
    email = normalise_email(email)
    if not email or "@" not in email:
        raise ValidationError(_l("Please give an email address."), field="email")
    email = (
        db.session.scalar(sa.select(PersonAlias.into_email).where(PersonAlias.email == email))
        or email
    )
    aliases = db.session.scalars(
        sa.select(PersonAlias.email).where(PersonAlias.into_email == email).order_by(PersonAlias.id)
    ).all()
    return Person((email, *aliases), _user_by_email(email))


@dataclass(frozen=True)
class Record:
    person: Person
    sections: list[Section]

    @property
    def held(self):
        """Whether anything at all is held about the person."""
        return (
            self.person.user is not None
            or len(self.person.emails) > 1
            or any(section.rows for section in self.sections)
        )


def record_of(email):
    """The person of ``email`` with every feature's rows about them: the staff page."""
    person = find_person(email)
    return Record(person, sections(person))


def _existing(email):
    """The record of ``email``; a 404 if nothing is held."""
    found = record_of(email)
    if not found.held:
        raise NotFound(_l("Nothing is held about this email address."))
    return found


@dataclass(frozen=True)
class Match:
    email: str
    names: tuple[str, ...]


def search(term, limit=SEARCH_LIMIT):
    """People whose address or name holds ``term``, one row per address, addresses sorted."""
    term = (term or "").strip()
    if len(term) < 2:
        raise ValidationError(_l("Please type at least two characters."), field="q")
    found = {}
    for provider in providers():
        if provider.search is None:
            continue
        for email, name in provider.search(term, limit):
            names = found.setdefault(normalise_email(email), [])
            if name and name not in names:
                names.append(name)
    # An address merged into another record leads to it: its rows now carry the other
    # address, but its consents and emails sent are still about it.
    for (email,) in db.session.execute(
        sa.select(PersonAlias.email)
        .where(holds(PersonAlias.email, term))
        .order_by(PersonAlias.email)
        .limit(limit)
    ):
        found.setdefault(email, [])
    return [
        Match(email, tuple(names))
        for email, names in sorted(found.items())
        if email and not _is_placeholder(email)
    ][:limit]


def sections(person):
    """Every feature's rows about ``person``, in the features' order."""
    return [section for provider in providers() for section in provider.sections(person)]


# -- export ------------------------------------------------------------------------------------


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value"):  # an Enum
        return value.value
    return value


def export(person):
    """Everything held about ``person``, as plain values: the JSON download."""
    return {
        "emails": list(person.emails),
        "exported_at": utcnow().isoformat(),
        "sections": {
            section.key: [
                {column.key: _plain(row.get(column.key)) for column in section.columns}
                for row in section.rows
            ]
            for section in sections(person)
        },
    }


def exported(email, kind):
    """:func:`export` for staff to download, written to the audit log (it is personal data).

    The entry names the person by fingerprint: the log is append-only and must not keep
    an address that an erasure later takes away.
    """
    person = _existing(email).person
    data = export(person)
    audit.record(
        "person.exported",
        person.user,
        data={
            "fingerprints": [fingerprint(address) for address in person.emails],
            "format": kind,
            "sections": sorted(key for key, rows in data["sections"].items() if rows),
        },
    )
    return data


EXPORT_HEADER = ["section", "row", "field", "value"]


def export_rows(data):
    """The rows of :func:`export`, one cell a line (sections differ in their columns)."""
    for key, rows in data["sections"].items():
        for number, row in enumerate(rows, start=1):
            for name, value in row.items():
                if isinstance(value, list):
                    value = "; ".join(str(v) for v in value)
                yield [key, number, name, value]


# -- merge and erase ---------------------------------------------------------------------------


def fingerprint(email):
    """A digest of an address, so the audit log can answer "was X erased?" without keeping X."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def _reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_l("Please give the reason."), field="reason")
    return reason


def _one_change_at_a_time():
    """Wait, until the transaction ends, for any other merge or erasure to end.

    Each reads the records it is about to change: a confirmation sent twice, or A merged
    into B while B goes into A, would otherwise both act on what the other is changing
    (a second alias of the same address, or two addresses merged into each other).
    SQLite lets one writer at a time, which serves the same purpose.
    """
    if is_postgres():
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(CHANGES_LOCK)))


def merge(source_email, target_email, *, reason, by=None):
    """Move record B (``source_email``) into record A (``target_email``); returns the counts.

    Each feature moves its rows (their address and account become A's); B's account, if A
    has one too, is closed. B's address becomes an alias of A, so what belongs to the
    address itself (consents, emails sent) still shows on A's record. ``by`` is the id of
    the staff member who merges.
    """
    reason = _reason(reason)
    _one_change_at_a_time()
    source, target = (found.person for found in records_to_merge(source_email, target_email))
    if target.user is None and source.user is not None:
        # A has no account: B's becomes A's, and every row moves to it.
        target = Person(target.emails, source.user)
    moved = {}
    for provider in providers():
        if provider.merge is not None:
            for what, count in provider.merge(source, target).items():
                if count:
                    moved[f"{provider.key}.{what}"] = count
    # Addresses merged into B earlier now belong to A too (B's own is never an alias:
    # find_person resolved it).
    db.session.execute(
        sa.update(PersonAlias)
        .where(PersonAlias.into_email == source.email)
        .values(into_email=target.email)
    )
    db.session.add(PersonAlias(email=source.email, into_email=target.email, merged_by_id=by))
    db.session.flush()
    # By fingerprint, as in every entry about a person: an erasure of the merged record
    # takes both addresses away, and the log is append-only (the alias says which they were).
    audit.record(
        "person.merged",
        target.user,
        data={
            "from_fingerprints": [fingerprint(address) for address in source.emails],
            "from_user_id": source.user_id,
            "into_fingerprint": fingerprint(target.email),
            "into_user_id": target.user_id,
            "moved": moved,
            "reason": reason,
        },
    )
    return moved


def _is_placeholder(email):
    return email.endswith((f"@{ERASED_DOMAIN}", f"@{MERGED_DOMAIN}"))


def records_to_merge(source_email, target_email):
    """Both records of a merge, as its confirmation shows them; refuses what cannot merge."""
    source, target = _existing(source_email), _existing(target_email)
    if set(source.person.emails) & set(target.person.emails):
        raise CannotMerge(_l("These are the same record."))
    if any(_is_placeholder(found.person.email) for found in (source, target)):
        # What an erasure kept is tied to no one, and must stay so.
        raise CannotMerge(_l("An erased record cannot be merged."))
    return source, target


def erasure_of(email):
    """The record as its erasure's confirmation shows it, and what must happen first."""
    found = _existing(email)
    return found, blockers(found.person)


def blockers(person):
    """What must happen before ``person`` can be erased, as messages for the staff page."""
    return [
        message
        for provider in providers()
        if provider.blockers is not None
        for message in provider.blockers(person)
    ]


def erase(email, *, reason):
    """Erase or anonymise everything held about ``email`` that the law lets go.

    Financial rows keep their amounts, dates and numbers, and receipts their frozen copy,
    under a placeholder address that is never delivered; returns ``(placeholder, counts)``.
    """
    reason = _reason(reason)
    _one_change_at_a_time()
    person = _existing(email).person
    waiting = blockers(person)
    if waiting:
        raise CannotErase(" ".join(str(message) for message in waiting))
    placeholder = f"erased-{secrets.token_hex(8)}@{ERASED_DOMAIN}"
    done = {}
    for provider in providers():
        if provider.erase is not None:
            for what, count in provider.erase(person, placeholder).items():
                if count:
                    done[f"{provider.key}.{what}"] = count
    db.session.execute(
        sa.delete(PersonAlias).where(
            sa.or_(PersonAlias.email.in_(person.emails), PersonAlias.into_email == person.email)
        )
    )
    db.session.flush()
    audit.record(
        "person.erased",
        person.user,
        data={
            "placeholder": placeholder,
            "fingerprints": [fingerprint(address) for address in person.emails],
            "done": done,
            "reason": reason,
        },
    )
    return placeholder, done
