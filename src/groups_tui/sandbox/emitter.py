"""How the simulated Meta writes webhook changes and names people in them.

Every change Meta would announce goes through :meth:`Emitter.emit` as a webhook *change*
object (``{"field", "value"}``) to a sink, normally the
:class:`~groups_tui.sandbox.webhooks.WebhookSender`; without a sink the changes are kept in
:attr:`Emitter.emitted` (in-process tests read them). The knobs decide the shape of
timestamps, of the participant key on statuses and of how people are named (reference 3.9).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .people import Population
from .state import Json, SandboxKnobs

__all__ = ["Emitter", "Sink"]

Sink = Callable[[Json, bool], None]
"""Receives ``(change, bulk)``; ``bulk`` marks pre-population announcements."""


class Emitter:
    """Builds and emits webhook changes.

    Args:
        phone_number_id: The business phone number id (``metadata``).
        display_phone_number: The business number shown in ``metadata``.
        knobs: Payload-shape knobs (``timestamp_style``, ``participant_field``, ``bsuid``).
        population: The simulated people (for user ids and hidden numbers).
        seed: Seed of the format choices of the ``mixed`` knobs.
    """

    def __init__(
        self,
        *,
        phone_number_id: str,
        display_phone_number: str,
        knobs: SandboxKnobs,
        population: Population,
        seed: int,
    ) -> None:
        self._metadata = {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        }
        self._knobs = knobs
        self._population = population
        self._fmt_rng = random.Random(f"format:{seed}")
        self._sink: Sink | None = None
        self.emitted: list[Json] = []
        """Changes emitted while no sink is attached (in-process tests read these)."""
        self.emitted_count = 0

    @property
    def sink(self) -> Sink | None:
        """Where emitted changes go (``None``: collected in :attr:`emitted`)."""
        return self._sink

    def attach(self, sink: Sink | None) -> None:
        """Send emitted changes to ``sink`` (``None`` collects them in :attr:`emitted`)."""
        self._sink = sink

    def emit(self, field_name: str, value: Json, *, bulk: bool = False) -> None:
        """Emit one webhook change (adds ``messaging_product`` and ``metadata``).

        Args:
            field_name: The webhook field.
            value: The change value without the common keys.
            bulk: Part of a pre-population announcement (batched harder).
        """
        full: Json = {"messaging_product": "whatsapp", "metadata": dict(self._metadata)}
        full.update(value)
        change = {"field": field_name, "value": full}
        self.emitted_count += 1
        if self._sink is None:
            self.emitted.append(change)
        else:
            self._sink(change, bulk)

    def ts(self, t: float) -> str | int:
        """A webhook timestamp in the configured style."""
        style = self._knobs.timestamp_style
        if style == "int" or (style == "mixed" and self._fmt_rng.random() < 0.5):
            return int(t)
        return str(int(t))

    def participant_field(self) -> str:
        """The name of the participant key of one group status."""
        name = self._knobs.participant_field
        if name == "mixed":
            return self._fmt_rng.choice(("recipient_participant_id", "participant_recipient_id"))
        return name

    def phone_hidden(self, wa_id: str) -> bool:
        """Whether payloads leave this person's phone number out (2026, reference 3.9)."""
        person = self._population.get(wa_id)
        return self._knobs.bsuid and person is not None and person.phone_hidden

    def person_ids(self, wa_id: str) -> Json:
        """How payloads name a person: ``wa_id``, plus ``user_id`` and ``username`` with the
        BSUID knob on, and without ``wa_id`` for someone who hides their number."""
        ids: Json = {} if self.phone_hidden(wa_id) else {"wa_id": wa_id}
        if self._knobs.bsuid:
            person = self._population.get(wa_id)
            if person is not None:
                ids["user_id"] = person.user_id
                if person.username:
                    ids["username"] = person.username
        return ids
