"""groups_tui.sandbox."""
