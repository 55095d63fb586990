"""The shared platform's own components, read with their own clients: PgBouncer's admin console,
Redis INFO, Alertmanager's API v2, and cert-manager Certificates (judged here, read in kube/).

Nothing here knows how a component is reached (a direct address or a port-forward: ops/) or
how it is shown (cli/, tui/). Every reader returns a typed reading, never raises: a component
that cannot be read is a reading with verdict "unknown" and the reason.
"""
