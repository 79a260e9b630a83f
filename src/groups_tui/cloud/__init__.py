"""groups_tui.cloud."""
