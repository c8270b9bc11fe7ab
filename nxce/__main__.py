from nxce.cli import main

main()
