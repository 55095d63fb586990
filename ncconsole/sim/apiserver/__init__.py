"""The simulated kube-apiserver: routes, the object store, watches, exec, auth and TLS."""
