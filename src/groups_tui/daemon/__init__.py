"""Team mode: ``groups-tui serve`` and its clients, over a Unix domain socket.

* :mod:`.wire` — the JSON encoding of the service's arguments, results and errors;
* :mod:`.client` — a service whose reads stay local (read-only database) and whose
  actions (:data:`~groups_tui.domain.roles.OPERATIONS`) go to the daemon;
* :mod:`.server` — the daemon: one per business account, holding the secrets, the
  listener, the workers and every write, checking each caller's role.
"""
