"""The simulated GitOps platform repository: its files and commits."""
