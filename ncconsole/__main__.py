from ncconsole.launcher import main

main()
