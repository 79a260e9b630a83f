"""groups_tui.ui."""
