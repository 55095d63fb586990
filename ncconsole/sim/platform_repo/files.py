"""The files of the simulated platform repo, rendered from a scenario: tenant values, common and
environment values, the ApplicationSet and AppProject, and the tenant-independent shared
components, policies, scripts and docs. Small but realistic, so the repo reads like a real
platform's."""

from __future__ import annotations

from ncconsole.sim.scenario import Release, Scenario, TenantSpec

GIT_REPO_URL = "https://git.example.com/platform/nextcloud-platform.git"
CHART_REPO_URL = "https://nextcloud.github.io/helm/"
COMMON_VALUES = "values/common.yaml"
APPSET_FILE = "argo/applicationsets/nextcloud-tenants.yaml"
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


def tenant_file(tenant: TenantSpec, default_replicas: int) -> str:
    """A tenant's values file in the platform's shape (wave quoted, as the seed repo has it)."""
    n, host = tenant.name, tenant.hostname
    text = (
        f"tenant:\n  name: {n}\n  environment: {tenant.environment}\n"
        f'  wave: "{tenant.wave}"\n  hostname: {host}\n  s3:\n    bucket: {tenant.bucket}\n'
        f"nextcloud:\n  host: {host}\n  trustedDomains: [{host}]\n"
        f"ingress:\n  tls: [{{secretName: nextcloud-{n}-tls, hosts: [{host}]}}]\n"
        f"  hosts: [{{host: {host}, paths: [{{path: /, pathType: Prefix}}]}}]\n"
    )
    if tenant.replicas != default_replicas:
        text += f"replicaCount: {tenant.replicas}\n"
    if tenant.image_tag:
        text += f"image:\n  tag: {tenant.image_tag}\n"
    return text


def common_values(release: Release, replicas: int) -> str:
    return f"""\
# Shared Helm values for every tenant's `nextcloud` release (chart nextcloud/nextcloud).
# The chart version lives here; keep the ApplicationSet's chart targetRevision in step.
chart:
  repository: {CHART_REPO_URL}
  name: nextcloud
  version: {release.chart_version}
image:
  repository: nextcloud
  tag: {release.image_tag}
  pullPolicy: IfNotPresent
replicaCount: {replicas}
nextcloud:
  existingSecret:
    enabled: true
    secretName: nextcloud-secrets
    usernameKey: nextcloud-username
    passwordKey: nextcloud-password
  objectStore:
    s3:
      enabled: true
      host: rgw.ceph.example.com
      ssl: true
      usePathStyle: true
      region: us-east-1
      existingSecret: nextcloud-secrets
      secretKeys:
        accessKey: s3-access-key
        secretKey: s3-secret-key
internalDatabase:
  enabled: false
externalDatabase:
  enabled: true
  type: postgresql
  host: pgbouncer.nc-platform.svc
  existingSecret:
    enabled: true
    secretName: nextcloud-secrets
    passwordKey: db-password
redis:
  enabled: false
"""


def env_values(environment: str) -> str:
    prod = environment == "prod"
    return (
        f"# Overrides for every tenant in environment '{environment}'.\n"
        f"nextcloud:\n  configs:\n    loglevel.config.php: |-\n"
        f"      <?php $CONFIG = ['loglevel' => {2 if prod else 1}];\n"
        f"resources:\n  requests: {{cpu: {'500m' if prod else '100m'}, memory: "
        f"{'1Gi' if prod else '512Mi'}}}\n"
    )


VENDORED_CHART = "charts/nextcloud"


def app_sources(tenant: str, environment: str, chart_version: str, shape: str) -> dict:
    """The `spec` fragment naming where a tenant's Application comes from, as the
    ApplicationSet renders it: multi-source (the chart from its Helm repo plus this repo as
    `ref: values`) or single-source (this repo, with the chart vendored under charts/)."""
    value_files = [
        "values/common.yaml",
        f"values/env/{environment}.yaml",
        f"values/tenants/tenant-{tenant}.yaml",
    ]
    if shape == "single":
        return {
            "source": {
                "repoURL": GIT_REPO_URL,
                "path": VENDORED_CHART,
                "targetRevision": "HEAD",
                "helm": {
                    "releaseName": "nextcloud",
                    "valueFiles": [f"../../{f}" for f in value_files],
                },
            }
        }
    return {
        "sources": [
            {
                "repoURL": CHART_REPO_URL,
                "chart": "nextcloud",
                "targetRevision": chart_version,
                "helm": {
                    "releaseName": "nextcloud",
                    "valueFiles": [f"$values/{f}" for f in value_files],
                },
            },
            {"repoURL": GIT_REPO_URL, "targetRevision": "HEAD", "ref": "values"},
        ]
    }


_MULTI_SOURCE_TEMPLATE = """\
      sources:
        - repoURL: {chart_repo}
          chart: nextcloud
          targetRevision: {chart_version}
          helm:
            releaseName: nextcloud
            valueFiles:
              - $values/values/common.yaml
              - $values/values/env/{{{{ .tenant.environment }}}}.yaml
              - $values/{{{{ .path.path }}}}/{{{{ .path.filename }}}}
        - repoURL: {git_repo}
          targetRevision: HEAD
          ref: values
"""
_SINGLE_SOURCE_TEMPLATE = """\
      source:
        repoURL: {git_repo}
        path: {chart_path}
        targetRevision: HEAD
        helm:
          releaseName: nextcloud
          valueFiles:
            - ../../values/common.yaml
            - ../../values/env/{{{{ .tenant.environment }}}}.yaml
            - ../../{{{{ .path.path }}}}/{{{{ .path.filename }}}}
"""


def applicationset(scenario: Scenario, chart_version: str) -> str:
    strategy = ""
    if scenario.applicationset.mode == "rolling_sync":
        steps = ""
        for step in scenario.rolling_steps():
            values = ", ".join(f'"{w}"' for w in step.waves)
            steps += (
                "        - matchExpressions:\n"
                f"            - {{key: wave, operator: In, values: [{values}]}}\n"
            )
            if step.max_update is not None:
                steps += f"          maxUpdate: {step.max_update}\n"
        strategy = f"  strategy:\n    type: RollingSync\n    rollingSync:\n      steps:\n{steps}"
    template = (
        _SINGLE_SOURCE_TEMPLATE if scenario.applicationset.sources == "single"
        else _MULTI_SOURCE_TEMPLATE
    ).format(
        chart_repo=CHART_REPO_URL, git_repo=GIT_REPO_URL, chart_version=chart_version,
        chart_path=VENDORED_CHART,
    )  # fmt: skip
    return f"""\
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: nextcloud-tenants
  namespace: argocd
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: {GIT_REPO_URL}
        revision: HEAD
        files:
          - path: values/tenants/*.yaml
{strategy}  template:
    metadata:
      # The name comes from the file, never from the path: the glob also matches subfolders.
      name: 'nc-{{{{ .tenant.name }}}}'
      labels:
        tenant: '{{{{ .tenant.name }}}}'
        wave: '{{{{ .tenant.wave }}}}'
    spec:
      project: nextcloud-platform
{template}      destination:
        server: https://kubernetes.default.svc
        namespace: 'nc-{{{{ .tenant.name }}}}'
      syncPolicy:
        syncOptions: [CreateNamespace=true]
"""


def release_files(scenario: Scenario, release: Release, replicas: int) -> dict[str, str | None]:
    """The files a chart/image release changes: values/common.yaml, the ApplicationSet's
    chart targetRevision and, on a single-source platform, the vendored chart."""
    files: dict[str, str | None] = {
        COMMON_VALUES: common_values(release, replicas),
        APPSET_FILE: applicationset(scenario, release.chart_version),
    }
    if scenario.applicationset.sources == "single":
        files[f"{VENDORED_CHART}/Chart.yaml"] = (
            f"apiVersion: v2\nname: nextcloud\nversion: {release.chart_version}\n"
            f"appVersion: {release.image_tag.split('-')[0]}\n"
        )
    return files


APPPROJECT = f"""\
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: nextcloud-platform
  namespace: argocd
spec:
  description: Nextcloud tenants and their shared platform components
  sourceRepos: ["{GIT_REPO_URL}", "{CHART_REPO_URL}"]
  destinations:
    - {{server: https://kubernetes.default.svc, namespace: "nc-*"}}
  clusterResourceWhitelist:
    - {{group: "", kind: Namespace}}
"""


def default_replicas(scenario: Scenario) -> int:
    """The most common replica count: common.yaml's replicaCount; tenant files override it."""
    counts: dict[int, int] = {}
    for tenant in scenario.tenants:
        counts[tenant.replicas] = counts.get(tenant.replicas, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else 3
