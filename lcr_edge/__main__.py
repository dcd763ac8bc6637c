from lcr_edge.cli import main

main()
