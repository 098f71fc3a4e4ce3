"""The one seam through which a lower floor sets off what higher floors do about it.

A service low in the house (capture, a send, a booking) must not import the apps above it, yet
they react to it: a reply stops cadences, a closing stage cancels waiting actions, a stage change
is announced to the CRM. The lower module declares a :class:`Reaction` and calls :meth:`Reaction.send`
where the thing happens; each higher app connects its receivers in ``AppConfig.ready()``.

Unlike Django signals, a reaction declares who may react and in what order (by app label), and a
receiver that raises is not swallowed: receivers run in the caller's transaction, one after the
other, so a reply still stops cadences inside the capture's transaction and an opt-out still
cancels in the same transaction as the opt-out. ``tests/test_architecture.py`` pins every
reaction's receivers and their order.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured

REACTIONS: dict[str, "Reaction"] = {}


@dataclass
class Reaction:
    """Something that happens on a lower floor, and the receivers of the higher floors, run in ``order``.

    ``order`` lists the app labels allowed to connect, in the order their receivers run. With
    ``required``, sending before any receiver is connected raises ImproperlyConfigured (a reaction
    the house cannot do without: an opt-out whose waiting texts nobody cancels would be a silent failure).
    """

    name: str
    order: tuple[str, ...]
    required: bool = False
    _receivers: list[tuple[str, Callable]] = field(default_factory=list, repr=False)

    def __post_init__(self):
        REACTIONS[self.name] = self

    def connect(self, receiver: Callable, *, app: str) -> Callable:
        """Connect ``receiver`` for ``app`` (an app label in ``order``); connecting it twice is a no-op."""
        if app not in self.order:
            raise ImproperlyConfigured(f"{app} may not react to {self.name}; it allows {', '.join(self.order)}.")
        if (app, receiver) not in self._receivers:
            self._receivers.append((app, receiver))
            self._receivers.sort(key=lambda pair: self.order.index(pair[0]))
        return receiver

    @property
    def receivers(self) -> list[str]:
        """The connected receivers' dotted names, in the order they run."""
        return [f"{r.__module__}.{r.__qualname__}" for _, r in self._receivers]

    def send(self, **kwargs) -> list:
        """Call every receiver with ``kwargs``, in order, in this process and transaction; returns their results."""
        if self.required and not self._receivers:
            raise ImproperlyConfigured(f"Nothing is connected to {self.name}.")
        return [receiver(**kwargs) for _, receiver in self._receivers]
