"""The simulated people's spontaneous behaviour, driven by the sandbox clock.

One Poisson process over the whole world picks a group (livelier groups more often) and
has someone in it do something: join by link, ask to join an approval group, withdraw a
request, chat (text, media with captions, now and then something the API cannot show),
leave, or spam (link floods, the same text in several groups, bursts). Conversations
continue for a while after a message, and members sometimes answer what the business sent.

Everything is drawn from a ``random.Random`` seeded by the sandbox seed, and each action
runs at its scheduled simulated time, so a given seed and a manual clock give the same
webhooks every time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .errors import SandboxError
from .people import HOSTILE_TEXTS, SPAM_TEXTS
from .state import OutboundMessage, SimGroup
from .world import World

__all__ = ["Behaviour", "BehaviourKnobs"]

_BURST_LINES = ("hello??", "anyone", "!!!", "ANSWER", "hello", "??", "pls reply", "😡😡")
_REPLIES = ("Thanks!", "👍", "Got it", "OK", "Gracias 🙏", "Спасибо", "شكراً", "When exactly?")


@dataclass
class BehaviourKnobs:
    """How lively the simulated people are.

    Attributes:
        events_per_group_hour: Mean spontaneous actions per active group per simulated hour.
        min_interval: Shortest mean gap between actions, in simulated seconds.
        max_interval: Longest mean gap between actions.
        join_weight: Relative weight of "someone joins / asks to join".
        chat_weight: Relative weight of "a member writes".
        leave_weight: Relative weight of "a member leaves".
        revoke_weight: Relative weight of "a request is withdrawn".
        spam_weight: Relative weight of spam actions.
        media_rate: Share of chat messages that carry media.
        unsupported_rate: Share of chat messages of a type the API cannot show.
        hostile_text_rate: Share of chat messages with hostile markup or escapes.
        reply_rate: Chance that a member answers an outbound message.
    """

    events_per_group_hour: float = 2.0
    min_interval: float = 0.5
    max_interval: float = 300.0
    join_weight: float = 2.0
    chat_weight: float = 6.0
    leave_weight: float = 0.6
    revoke_weight: float = 0.3
    spam_weight: float = 0.6
    media_rate: float = 0.15
    unsupported_rate: float = 0.02
    hostile_text_rate: float = 0.03
    reply_rate: float = 0.35


class Behaviour:
    """Schedules and performs what the simulated people do.

    Args:
        world: The world they live in.
        seed: Seed of their decisions.
        knobs: Liveliness knobs.
    """

    def __init__(self, world: World, *, seed: int = 7, knobs: BehaviourKnobs | None = None):
        self.world = world
        self.knobs = knobs or BehaviourKnobs()
        self.rng = random.Random(f"behaviour:{seed}")
        self.running = False
        self.actions = 0
        self._spam_seq = 0
        self._cached_keys: list[str] = []
        self._cached_len = -1
        world.messaging.on_sent.append(self._on_sent)

    def start(self, at: float | None = None) -> None:
        """Begin the spontaneous process at ``at`` (default now)."""
        if self.running:
            return
        self.running = True
        self.world.scheduler.at(
            self._next_after(self.world.now() if at is None else at), self._fire
        )

    def stop(self) -> None:
        """Stop scheduling new spontaneous actions (already scheduled ones still run)."""
        self.running = False

    def withdraw(self) -> int:
        """Stop, and drop the spontaneous actions already scheduled (the next step, the
        replies people were about to write) before the world is kept: they are made up
        again when the world runs next.

        Returns:
            How many scheduled actions were dropped.
        """
        self.stop()
        return self.world.scheduler.discard(self._is_mine)

    def _is_mine(self, action: Callable[[float], None]) -> bool:
        if getattr(action, "__self__", None) is self:
            return True
        return getattr(action, "__qualname__", "").startswith("Behaviour._follow_up.")

    # ------------------------------------------------------------------ scheduling

    def _next_after(self, t: float) -> float:
        k = self.knobs
        groups = max(1, self.world.groups.active_count)
        mean = 3600.0 / max(1e-6, k.events_per_group_hour * groups)
        mean = min(k.max_interval, max(k.min_interval, mean))
        return t + self.rng.expovariate(1.0 / mean)

    def _fire(self, t: float) -> None:
        if not self.running:
            return
        self.step(t)
        self.world.scheduler.at(self._next_after(t), self._fire)

    # ------------------------------------------------------------------ actions

    def _pick_group(self) -> SimGroup | None:
        groups = self.world.groups
        if not groups:
            return None
        ids = list(groups) if len(groups) < 64 else None
        for _ in range(30):  # rejection sampling by liveliness, bounded
            gid = self.rng.choice(ids) if ids is not None else self._random_key()
            group = groups[gid]
            if group.deleted or group.suspended:
                continue
            if self.rng.random() * 3.0 <= group.liveliness:
                return group
        return None

    def _random_key(self) -> str:
        # Dicts keep insertion order; sample by position without building a list each time.
        keys = self._keys_cache()
        return keys[self.rng.randrange(len(keys))]

    def _keys_cache(self) -> list[str]:
        if self._cached_len != len(self.world.groups):
            self._cached_keys = list(self.world.groups)
            self._cached_len = len(self._cached_keys)
        return self._cached_keys

    def step(self, t: float) -> str:
        """Perform one spontaneous action at simulated time ``t``.

        Returns:
            What happened (``"join"``, ``"request"``, ``"chat"``, ``"spam"``...), or
            ``"idle"`` when nothing was possible.
        """
        group = self._pick_group()
        if group is None:
            return "idle"
        k = self.knobs
        choices = ["join", "chat", "leave", "revoke", "spam"]
        weights = [k.join_weight, k.chat_weight, k.leave_weight, k.revoke_weight, k.spam_weight]
        if not group.members:
            weights = [1.0, 0.0, 0.0, 0.0, 0.0]
        action = self.rng.choices(choices, weights=weights)[0]
        try:
            done = self._do(action, group, t)
        except SandboxError:
            done = "idle"
        if done != "idle":
            self.actions += 1
        return done

    def _do(self, action: str, group: SimGroup, t: float) -> str:
        w = self.world
        if action == "join":
            if group.mode == "approval_required":
                w.persons.request_join(group.id, at=t, rng=self.rng)
                return "request"
            if len(group.members) >= w.knobs.max_participants or group.invite_link is None:
                return "idle"
            w.persons.join(group.id, at=t, rng=self.rng)
            return "join"
        if action == "revoke":
            if not group.join_requests:
                return "idle"
            jr = self.rng.choice(list(group.join_requests.values()))
            w.persons.revoke_request(group.id, jr.id, at=t)
            return "revoke"
        if action == "leave":
            if len(group.members) < 2:
                return "idle"
            w.persons.leave(group.id, self.rng.choice(list(group.members)), at=t)
            return "leave"
        if action == "spam":
            return self._spam(group, t)
        self._chat(group, t)
        return "chat"

    def _speaker(self, group: SimGroup) -> str:
        members = list(group.members)
        pop = self.world.population
        weights = [(p.chattiness if (p := pop.get(m)) else 1.0) for m in members]
        return self.rng.choices(members, weights=weights)[0]

    def _chat(
        self, group: SimGroup, t: float, *, wa_id: str | None = None, text: str | None = None
    ) -> None:
        k = self.knobs
        speaker = wa_id or self._speaker(group)
        roll = self.rng.random()
        if text is None and roll < k.unsupported_rate:
            self.world.persons.message(group.id, speaker, kind="unsupported", at=t, rng=self.rng)
        elif text is None and roll < k.unsupported_rate + k.media_rate:
            kind = self.rng.choice(("image", "image", "video", "audio", "document", "sticker"))
            self.world.persons.message(group.id, speaker, kind=kind, at=t, rng=self.rng)
        else:
            if text is None and self.rng.random() < k.hostile_text_rate:
                text = self.rng.choice(HOSTILE_TEXTS)
            self.world.persons.message(group.id, speaker, text, at=t, rng=self.rng)
        # A conversation goes on for a bit: a few answers over the next minutes.
        for _ in range(self.rng.choice((0, 0, 1, 1, 2, 3))):
            self.world.scheduler.at(t + self.rng.uniform(20, 900), self._follow_up(group.id))

    def _follow_up(self, group_id: str) -> Callable[[float], None]:
        def run(t: float) -> None:
            group = self.world.groups.get(group_id)
            if group is None or group.deleted or group.suspended or not group.members:
                return
            try:
                self.world.persons.message(group_id, self._speaker(group), at=t, rng=self.rng)
            except SandboxError:
                return

        return run

    def _spam(self, group: SimGroup, t: float) -> str:
        w = self.world
        pop = w.population
        spammers = [m for m in group.members if (p := pop.get(m)) is not None and p.spammer]
        if not spammers:
            # A spammer gets in first (if the door is open).
            if group.mode == "approval_required" or len(group.members) >= w.knobs.max_participants:
                return "idle"
            candidates = [
                p.wa_id
                for p in pop.spammers
                if p.wa_id not in group.members and p.wa_id not in group.removed
            ]
            if not candidates or group.invite_link is None:
                return "idle"
            w.persons.join(group.id, self.rng.choice(candidates), at=t)
            return "spam_join"
        spammer = self.rng.choice(spammers)
        self._spam_seq += 1
        kind = self.rng.choice(("flood", "cross", "burst"))
        if kind == "flood":
            for i in range(self.rng.randint(3, 6)):
                text = self.rng.choice(SPAM_TEXTS).format(n=self._spam_seq * 10 + i)
                w.scheduler.at(t + i * self.rng.uniform(0.5, 3), self._say(group.id, spammer, text))
        elif kind == "cross":
            text = self.rng.choice(SPAM_TEXTS).format(n=self._spam_seq)
            targets = [g.id for g in w.groups.values() if spammer in g.members and not g.deleted][
                :5
            ]
            for i, gid in enumerate(targets):
                w.scheduler.at(t + i * self.rng.uniform(1, 20), self._say(gid, spammer, text))
        else:
            for i in range(self.rng.randint(5, 10)):
                text = self.rng.choice(_BURST_LINES)
                w.scheduler.at(
                    t + i * self.rng.uniform(0.2, 1.5), self._say(group.id, spammer, text)
                )
        return "spam"

    def _say(self, group_id: str, wa_id: str, text: str) -> Callable[[float], None]:
        def run(t: float) -> None:
            group = self.world.groups.get(group_id)
            if group is None or group.deleted or group.suspended or wa_id not in group.members:
                return
            try:
                self.world.persons.message(group_id, wa_id, text, at=t, rng=self.rng)
            except SandboxError:
                return

        return run

    def _on_sent(self, msg: OutboundMessage) -> None:
        if not self.running or msg.group_id is None or not msg.recipients:
            return
        if self.rng.random() >= self.knobs.reply_rate:
            return
        who = self.rng.choice(msg.recipients)
        text = self.rng.choice(_REPLIES)
        self.world.scheduler.at(
            msg.sent_at + self.rng.uniform(30, 1800), self._say(msg.group_id, who, text)
        )
