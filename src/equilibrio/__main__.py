from equilibrio.cli import main

main()
