"""A faithful stand-in for Meta's WhatsApp Groups API and the people in the groups.

Start :class:`SandboxServer` in a running loop, point the Cloud API client at its
``base_url`` and the webhook sender at a listener, and the whole path runs for real:
client -> HTTP -> sandbox, sandbox -> signed webhook -> listener.
"""

from .behaviour import Behaviour, BehaviourKnobs
from .clock import Clock, ManualClock, ScaledClock, SystemClock
from .errors import GraphError, SandboxError
from .people import Person, Population
from .prefill import populate_demo, prepopulate
from .server import SandboxServer
from .state import SandboxKnobs
from .webhooks import WebhookKnobs, WebhookSender, sign_body
from .world import World

__all__ = [
    "Behaviour",
    "BehaviourKnobs",
    "Clock",
    "GraphError",
    "ManualClock",
    "Person",
    "Population",
    "SandboxError",
    "SandboxKnobs",
    "SandboxServer",
    "ScaledClock",
    "SystemClock",
    "WebhookKnobs",
    "WebhookSender",
    "World",
    "populate_demo",
    "prepopulate",
    "sign_body",
]
