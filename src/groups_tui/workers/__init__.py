"""Background workers: the followers of the change feed.

They run inside the TUI's loop (:mod:`groups_tui.tui_runner`) or headless beside the
listener (``groups-tui automations run``), and reach the account only through the
service (``service.changes``, ``service.moderation``, ``service.automations``...):

* :mod:`.moderation` — :class:`~.moderation.ModerationWatcher` judges new messages, joins
  and join requests with the moderation rules; the service stores each flag and acts;
* :mod:`.runner` — :class:`~.runner.AutomationRunner` drives :mod:`.invite_flows`
  (1:1 messages answered with a group's invite link) and :mod:`.forwarding` (applied
  events delivered to HTTP endpoints or commands), configured by
  :mod:`groups_tui.automations.config`;
* :mod:`.commands` — ``groups-tui automations run``, the runner's headless host.

Nothing here imports Textual.
"""
