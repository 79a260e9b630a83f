from groups_tui.cli import main

main()
