"""Every model, imported once so that Alembic and the app see the whole schema."""

from core.accounts.models import LoginSession, RecoveryCode, Role, User  # noqa: F401
from core.audit import AuditEntry  # noqa: F401
from core.mail.models import EmailConsent, OutboxAttachment, OutboxMessage  # noqa: F401
from core.people import PersonAlias  # noqa: F401
from core.settings import AppSetting  # noqa: F401
from core.worker import TaskSchedule  # noqa: F401
