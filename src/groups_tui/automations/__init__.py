"""Automations: configuration plus a command for what businesses do with groups at scale.

* :mod:`.bulk_create` — create groups from a CSV file, paced and resumable;
* :mod:`.prune` — retire groups by rules (dry run by default);
* :mod:`.invite_flows` — answer 1:1 messages with a group's invite-link template;
* :mod:`.forwarding` — forward applied group events to HTTP endpoints or commands;
* :mod:`.announce` — one template to many groups with a cost preview, resumable;
* :mod:`.runner` — :class:`~.runner.AutomationRunner`, which follows the store and drives
  invite flows and forwarding inside any asyncio loop;
* :mod:`.commands` — the click commands the top-level CLI registers;
* :mod:`.config` — the ``[automations]`` TOML section.

Nothing here imports Textual; the runner's :meth:`~.runner.AutomationRunner.status`
returns plain dataclasses for a screen to render.
"""
