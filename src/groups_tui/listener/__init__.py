"""The webhook listener: verify, log durably, acknowledge, then apply to state.

:class:`~groups_tui.listener.server.ListenerServer` embeds it in a running event loop (the
TUI's); ``groups-tui listen`` runs it headless. Import the submodules directly; this
package imports nothing so that importing it stays cheap.
"""
