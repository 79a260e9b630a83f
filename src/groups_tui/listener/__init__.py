"""groups_tui.listener."""
