"""groups_tui.store."""
