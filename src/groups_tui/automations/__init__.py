"""Automations: their configuration, and the batch jobs run from the command line.

* :mod:`.config` — the ``[automations]`` TOML section (invite rules, forwarding targets,
  prune rules, pacing);
* :mod:`.bulk_create` — create groups from a CSV file, paced and resumable;
* :mod:`.prune` — retire groups by rules (dry run by default);
* :mod:`.announce` — one template to many groups with a cost preview, resumable;
* :mod:`.pacing` and :mod:`.common` — pacing, throttling, group selection;
* :mod:`.commands` — the click commands the top-level CLI registers.

The invite flows and forwarding follow the change feed: they are workers
(:mod:`groups_tui.workers`), configured from here. Everything reaches the account through
the service; nothing here imports Textual.
"""
