"""The console's screens: fleet (home), tenant detail, help."""
