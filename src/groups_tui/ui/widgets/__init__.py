"""groups_tui.ui.widgets."""
