"""Files of the simulated platform repo that do not depend on the tenants: shared components,
policies, scripts and docs. Small but realistic, so the repo reads like a real platform's."""

from __future__ import annotations

PLATFORM_NAMESPACE = "nc-platform"

_REDIS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: redis
  namespace: nc-platform
  labels: {app.kubernetes.io/name: redis, app.kubernetes.io/part-of: nextcloud-platform}
spec:
  replicas: 1
  selector:
    matchLabels: {app.kubernetes.io/name: redis}
  template:
    metadata:
      labels: {app.kubernetes.io/name: redis}
    spec:
      containers:
        - name: redis
          image: redis:7.4-alpine
          args: ["--requirepass", "$(REDIS_PASSWORD)"]
          env:
            - name: REDIS_PASSWORD
              valueFrom: {secretKeyRef: {name: redis-auth, key: password}}
          ports: [{containerPort: 6379, name: redis}]
          readinessProbe: {tcpSocket: {port: redis}, periodSeconds: 5}
---
apiVersion: v1
kind: Service
metadata:
  name: redis
  namespace: nc-platform
spec:
  selector: {app.kubernetes.io/name: redis}
  ports: [{port: 6379, targetPort: redis, name: redis}]
"""

_PGBOUNCER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pgbouncer
  namespace: nc-platform
  labels: {app.kubernetes.io/name: pgbouncer, app.kubernetes.io/part-of: nextcloud-platform}
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: pgbouncer}
  template:
    metadata:
      labels: {app.kubernetes.io/name: pgbouncer}
    spec:
      containers:
        - name: pgbouncer
          image: bitnami/pgbouncer:1.23.1
          env:
            - {name: POSTGRESQL_HOST, value: postgres.databases.svc}
            - {name: PGBOUNCER_POOL_MODE, value: transaction}
            - {name: PGBOUNCER_MAX_CLIENT_CONN, value: "2000"}
          ports: [{containerPort: 6432, name: pgbouncer}]
---
apiVersion: v1
kind: Service
metadata:
  name: pgbouncer
  namespace: nc-platform
spec:
  selector: {app.kubernetes.io/name: pgbouncer}
  ports: [{port: 5432, targetPort: pgbouncer, name: postgres}]
"""

_SECRET_STORE = """\
apiVersion: external-secrets.io/v1
kind: ClusterSecretStore
metadata:
  name: vault
spec:
  provider:
    vault:
      server: https://vault.example.com
      path: secret
      version: v2
      auth:
        kubernetes:
          mountPath: kubernetes
          role: external-secrets
"""

_POLICIES = """\
# Tenants only talk to their ingress, the shared platform services and S3.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: nextcloud-tenant-default
  annotations:
    description: copied into every nc-<tenant> namespace by the platform's policy controller
spec:
  podSelector: {matchLabels: {app.kubernetes.io/name: nextcloud}}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ingress-nginx}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: pgbouncer
  namespace: nc-platform
spec:
  minAvailable: 1
  selector: {matchLabels: {app.kubernetes.io/name: pgbouncer}}
"""

_SCRIPT = """\
#!/bin/sh
# {what}
# Kept for reference: `ncconsole {replacement}` does this job now.
set -eu
echo "use: ncconsole {replacement}" >&2
exit 1
"""

_DOCS = {
    "ADDING-TENANT.md": (
        "# Adding a tenant\n\n1. `ncconsole new-tenant NAME --wave N --hostname HOST`.\n"
        "2. Create its secret (`scripts/create-tenant-secret.sh` or External Secrets).\n"
        "3. Commit; Argo CD creates Application `nc-NAME` from the ApplicationSet.\n"
    ),
    "DATABASE.md": (
        "# Database\n\nTenants reach PostgreSQL through PgBouncer in `nc-platform`"
        " (transaction pooling). Each tenant has its own database and role; the password"
        " is `db-password` in the tenant secret.\n"
    ),
    "SECRETS.md": (
        "# Secrets\n\nEach tenant namespace holds `nextcloud-secrets` (admin login, S3 keys,"
        " database and Redis passwords, Nextcloud secret), synced by External Secrets from"
        " Vault through ClusterSecretStore `vault`.\n"
    ),
    "UPGRADE.md": (
        "# Upgrading Nextcloud\n\nBump `chart.version` and `image.tag` in"
        " `values/common.yaml` (and the chart's targetRevision in the ApplicationSet), then"
        " promote wave by wave, canary (wave 0) first. Check status.php and `occ status`"
        " before each next wave.\n"
    ),
}


def static_files() -> dict[str, str]:
    """Repo-relative path -> content for every tenant-independent file."""
    files = {
        "platform/redis/redis.yaml": _REDIS,
        "platform/pgbouncer/pgbouncer.yaml": _PGBOUNCER,
        "platform/externalsecrets/clustersecretstore.yaml": _SECRET_STORE,
        "platform/policies/policies.yaml": _POLICIES,
    }
    scripts = {
        "create-tenant-secret": ("Create a tenant's nextcloud-secrets.", "secrets"),
        "validate-values": ("Check values/ for mistakes before merging.", "validate"),
        "smoke-checks": ("status.php and occ checks after a rollout.", "smoke"),
    }
    for name, (what, replacement) in scripts.items():
        files[f"scripts/{name}.sh"] = _SCRIPT.format(what=what, replacement=replacement)
    files.update({f"docs/{name}": text for name, text in _DOCS.items()})
    return files
