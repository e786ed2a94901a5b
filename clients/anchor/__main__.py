from clients.anchor.cli import main

main()
