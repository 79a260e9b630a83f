"""groups_tui.ui.screens."""
