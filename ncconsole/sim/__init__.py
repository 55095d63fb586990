"""The loopback platform simulator: a Kubernetes API server and its companions.

Start with `ncconsole.sim.simulator.Simulator`; the API server is `apiserver.server.SimServer`,
its object store `apiserver.store.Store`.
"""
