"""The loopback platform simulator: a Kubernetes API server and its companions.

Start with `ncconsole.sim.server.SimServer`; the object store is `ncconsole.sim.store.Store`.
"""
