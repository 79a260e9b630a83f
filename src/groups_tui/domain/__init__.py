"""groups_tui.domain."""
