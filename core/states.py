"""State machines: an Enum of states, the moves allowed between them, an audit entry per move."""

from flask_babel import lazy_gettext as _l

from core import audit
from core.errors import IllegalTransition


class StateMachine:
    """Moves ``obj.<attr>`` between the states of an Enum, refusing any move not listed."""

    def __init__(self, name, moves, attr="status"):
        self.name = name
        self.moves = {state: frozenset(targets) for state, targets in moves.items()}
        self.attr = attr

    def can(self, current, new):
        return new in self.moves.get(current, ())

    def move(self, obj, new, *, actor=None, data=None):
        """Move ``obj`` to ``new``; False if already there, IllegalTransition if not allowed."""
        current = getattr(obj, self.attr)
        if current == new:
            return False
        if not self.can(current, new):
            raise IllegalTransition(
                _l(
                    "A %(thing)s that is %(current)s cannot become %(new)s.",
                    thing=self.name,
                    current=current.value,
                    new=new.value,
                )
            )
        setattr(obj, self.attr, new)
        audit.record(
            f"{self.name}.{new.value}",
            obj,
            data={"from": current.value, "to": new.value, **(data or {})},
            actor=actor,
        )
        return True
