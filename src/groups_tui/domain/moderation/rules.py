"""The moderation rules by name, their actions, and the :class:`Flag` a rule reports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from groups_tui.domain.identity import normalize_input

__all__ = ["MESSAGE_RULES", "Flag", "RuleAction", "RuleName", "describe", "format_span"]


class RuleAction(StrEnum):
    """What happens when a rule fires."""

    NOTIFY = "notify"
    """Only list the flag in the moderation queue for an operator to act on."""
    AUTO_REMOVE = "auto_remove"
    """Remove the participant from the group without asking."""
    AUTO_REJECT = "auto_reject"
    """Reject the join request without asking (join requests only)."""


class RuleName(StrEnum):
    """The moderation rules."""

    LINK_FLOOD = "link_flood"
    CROSS_GROUP_DUPLICATE = "cross_group_duplicate"
    BURST = "burst"
    NEW_MEMBER_LINK = "new_member_link"
    BLOCKLIST = "blocklist"


MESSAGE_RULES: frozenset[RuleName] = frozenset(
    {
        RuleName.LINK_FLOOD,
        RuleName.CROSS_GROUP_DUPLICATE,
        RuleName.BURST,
        RuleName.NEW_MEMBER_LINK,
    }
)
"""Rules that only see messages from members; ``auto_reject`` makes no sense for them."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag:
    """Something a rule found, for the moderation queue (and for automatic action).

    Attributes:
        rule: The rule that fired.
        action: What to do: ``notify`` (queue only), ``auto_remove`` (remove the
            participant) or ``auto_reject`` (reject the join request).
        group_id: The group.
        participant_key: The sender's or requester's member key.
        wa_id: Their ``wa_id``, if known.
        message_id: The message that made the rule fire, for message rules.
        join_request_id: The join request, for a blocklisted join request.
        at: Epoch seconds of the event that made the rule fire.
        reason: A sentence for the operator, e.g. "4 links in 10 min from +44 7700 900123".
        evidence: Ids of the messages behind the flag, oldest first.
    """

    rule: RuleName
    action: RuleAction
    group_id: str
    participant_key: str
    wa_id: str | None
    message_id: str | None = None
    join_request_id: str | None = None
    at: int
    reason: str
    evidence: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[RuleName, str, str]:
        """``(rule, group_id, participant_key)``: what de-duplication is keyed on."""
        return (self.rule, self.group_id, self.participant_key)

    @property
    def automatic(self) -> bool:
        """True if the flag asks for a removal or rejection without an operator."""
        return self.action is not RuleAction.NOTIFY


def format_span(seconds: int) -> str:
    """A short duration for reasons: ``"45 s"``, ``"10 min"``, ``"6 h"``, ``"1 h 30 min"``.

    Args:
        seconds: A non-negative duration.

    Returns:
        The label.
    """
    seconds = max(0, seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h" + (f" {minutes} min" if minutes else "")


@lru_cache(maxsize=4_096)
def describe(wa_id: str | None, participant_key: str) -> str:
    """The sender as a reason names them: an international number when possible."""
    number = normalize_input(wa_id) if wa_id else ""
    if number.isdigit():
        import phonenumbers  # ~10 ms: loaded with the first reason worded, not the rules

        try:
            parsed = phonenumbers.parse("+" + number)
        except phonenumbers.NumberParseException:
            return "+" + number
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return participant_key or "an unknown sender"
