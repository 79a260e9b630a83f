"""``python -m groups_tui.sandbox``: the same as ``groups-tui sandbox``."""

from .commands import sandbox_command

sandbox_command(prog_name="python -m groups_tui.sandbox")
