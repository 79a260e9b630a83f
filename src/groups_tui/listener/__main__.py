"""``python -m groups_tui.listener``: the headless listener on its own."""

from groups_tui.listener.commands import listen_command

if __name__ == "__main__":
    listen_command(prog_name="python -m groups_tui.listener")
