from ncconsole.cli import main

main()
