"""The whole simulated platform in one object: the GitOps repo, the HTTPS Kubernetes API with
its controllers (Deployments, kubelet, Argo CD, RollingSync, External Secrets), every tenant's
Nextcloud (status.php and occ) and S3.

    with Simulator(default_scenario(5), workdir=tmp) as sim:
        subprocess.run([kubectl, "--kubeconfig", sim.kubeconfig, "get", "pods", "-A"])
        sim.commit_release("6.6.9", "30.0.8-apache")   # Argo CD notices within repo_poll
        sim.set_fault("alpha", "degraded")

`start()` writes `workdir/platform` (git), then `workdir/config.yaml` (ncconsole settings for
this simulator) and last, atomically, `workdir/kubeconfig`: its presence means "ready".
Everything in the cluster runs in the API server's event loop; the methods here hop onto it.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path
from typing import Any, TypeVar

from ncconsole.errors import NcConsoleError
from ncconsole.sim.apiserver.auth import DenyRule
from ncconsole.sim.apiserver.resources import (
    APPLICATIONS,
    APPLICATIONSETS,
    PODS,
    registry_serving_eso,
)
from ncconsole.sim.apiserver.server import SimServer
from ncconsole.sim.apiserver.store import Store
from ncconsole.sim.console_config import write_console_config
from ncconsole.sim.controllers.appset import RollingSyncController
from ncconsole.sim.controllers.argocd import ArgoCdController
from ncconsole.sim.controllers.containers import Containers
from ncconsole.sim.controllers.deployments import DeploymentController
from ncconsole.sim.controllers.events import EventRecorder
from ncconsole.sim.controllers.externalsecrets import ExternalSecretsController
from ncconsole.sim.controllers.kubelet import Kubelet
from ncconsole.sim.controllers.state import (
    APPLICATIONSET,
    ARGOCD_NAMESPACE,
    PlatformState,
)
from ncconsole.sim.faults import FAULTS, switch_fault
from ncconsole.sim.nextcloud.instance import NextcloudInstance, version_from_image_tag
from ncconsole.sim.nextcloud.web import NextcloudWeb
from ncconsole.sim.platform_alerts import PrometheusAlerts, firing_now
from ncconsole.sim.platform_load import PlatformLoad
from ncconsole.sim.platform_repo.files import default_replicas as repo_default_replicas
from ncconsole.sim.platform_repo.files import release_files
from ncconsole.sim.platform_repo.repo import commit_change, desired_versions, write_platform_repo
from ncconsole.sim.platform_services import PlatformServers, port_resolver
from ncconsole.sim.s3 import ExternalS3, S3Service
from ncconsole.sim.scenario import (
    Release,
    Scenario,
    TenantSpec,
    default_scenario,
)
from ncconsole.sim.seed import application, seed_platform, seed_tenant

T = TypeVar("T")


class SimulatorError(NcConsoleError):
    """The simulator cannot start or cannot do what was asked."""


class Simulator:
    """See the module docstring. Attributes once started: `repo`, `kubeconfig`,
    `config_path`, `ca_file`, `web_address` (host:port), `web_url`, `s3_endpoint`, `server`
    (the SimServer), `store`, `state` (the PlatformState)."""

    def __init__(
        self,
        scenario: Scenario | None = None,
        *,
        workdir: Path,
        port: int = 0,
        s3: ExternalS3 | None = None,
        platform_servers: PlatformServers | None = None,
    ) -> None:
        self.scenario = scenario or default_scenario()
        self.workdir = Path(workdir)
        self.repo = self.workdir / "platform"
        self.kubeconfig = self.workdir / "kubeconfig"
        self.config_path = self.workdir / "config.yaml"
        self.ca_file = self.workdir / "tls" / "ca.crt"
        self._port = port
        self.s3 = S3Service(external=s3)
        # Real PgBouncer/Redis/Alertmanager behind the platform pods' port-forwards, if any.
        self.platform_servers = platform_servers or PlatformServers()
        self.server: SimServer | None = None
        self.web: NextcloudWeb | None = None
        self.state = PlatformState(self.scenario, self.repo)
        self._by_host: dict[str, NextcloudInstance] = {}  # status.php's Host routing
        self._controllers: list[Any] = []
        self.kubelet: Kubelet | None = None
        self.argocd: ArgoCdController | None = None
        self.platform_load: PlatformLoad | None = None
        self.prometheus: PrometheusAlerts | None = None

    # --- lifecycle ------------------------------------------------------------------------
    def start(self) -> Simulator:
        """Start everything. A start that fails (a port in use, a bad scenario) removes what
        it wrote, so the next start in the same directory is not refused."""
        made_workdir = not self.workdir.exists()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.kubeconfig.unlink(missing_ok=True)  # its presence must mean "this one is ready"
        ours = [p for p in (self.repo, self.workdir / "tls", self.config_path) if not p.exists()]
        try:
            self._start()
        except BaseException:
            self.stop()
            for path in ours:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
            if made_workdir:
                with contextlib.suppress(OSError):
                    self.workdir.rmdir()  # only if empty
            raise
        return self

    def _start(self) -> None:
        scenario = self.scenario
        head = write_platform_repo(scenario, self.repo)
        initial = _git_rev(self.repo, "HEAD^") if scenario.pending_upgrade else head
        desired = desired_versions(self.repo, head)
        deployed = desired_versions(self.repo, initial) if initial != head else desired
        self.s3.start()
        self.s3.provision(scenario.tenants)
        admin = scenario.admin
        self.server = SimServer(
            port=self._port,
            tls_dir=self.workdir / "tls",
            admin_user=admin.name,
            admin_token=admin.token,
            registry=registry_serving_eso(tuple(scenario.external_secrets_versions)),
        ).start()
        for tenant in scenario.tenants:
            self._add_instance(tenant, deployed[tenant.name].image_tag)
            if tenant.faults.degraded:
                self.state.degraded.add(tenant.name)
            if tenant.faults.sync_fails:
                self.state.sync_fails.add(tenant.name)
            if tenant.faults.stale_crashloop:
                self.state.stale_crashloop.add(tenant.name)
        self.server.call(self._configure_api)
        self.server.call(self._seed, head, initial, desired, deployed, timeout=600)
        self.server.call(self._start_controllers, head, desired, deployed)
        self._start_web()
        self._start_platform_load()
        self._start_platform_alerts()
        self._write_config()
        self.server.write_kubeconfig(self.kubeconfig)

    def _start_platform_load(self) -> None:
        """With real platform servers, the tenants become PgBouncer clients."""
        access = self.platform_servers.database
        if access is None:
            return
        tenants = self.scenario.tenants
        saturated = [t.name for t in tenants if t.faults.pgbouncer_saturated]
        self.platform_load = PlatformLoad(access, [t.name for t in tenants], saturated).start()

    def _start_platform_alerts(self) -> None:
        """With a real Alertmanager, the simulated cluster's troubles become its alerts, as
        Prometheus would send them (platform_alerts.py)."""
        server = self.platform_servers.alertmanager
        if server is None:
            return

        def rules() -> list:
            queued = self.platform_load.queued if self.platform_load is not None else 0
            return self.call(firing_now, self.store, self.state, queued)

        self.prometheus = PrometheusAlerts(f"http://{server.host}:{server.port}", rules).start()

    def _configure_api(self) -> None:
        assert self.server is not None
        scenario, auth = self.scenario, self.server.auth
        for user in scenario.rbac.users[1:]:
            auth.add_user(
                user.name, user.token, read_only=user.read_only, namespaces=user.namespaces
            )
        for user in scenario.rbac.users:
            if user.forbidden_namespaces:
                auth.deny(DenyRule(user=user.name, namespaces=tuple(user.forbidden_namespaces)))
        for tenant in scenario.tenants:
            if tenant.faults.namespace_forbidden:
                auth.deny(DenyRule(namespaces=(tenant.namespace,)))
        faults = self.server.api.faults
        faults.latency = scenario.api.latency
        faults.drop_watches_after = scenario.api.drop_watches_every

    def _seed(self, head: str, initial: str, desired: dict, deployed: dict) -> None:
        store = self.store
        appset_uid = seed_platform(
            store, self.scenario, desired_chart(desired, self.scenario), self.platform_servers
        )
        for tenant in self.scenario.tenants:
            seed_tenant(
                store,
                tenant,
                appset_uid=appset_uid,
                head=head,
                deployed_revision=initial,
                deployed=deployed[tenant.name],
                desired=desired[tenant.name],
                s3=self.s3.credentials(tenant.name),
                shape=self.scenario.applicationset.sources,
            )
            if tenant.faults.stale_crashloop:
                pods = store.list(PODS, tenant.namespace)
                self.state.stale_pods |= {pod["metadata"]["uid"] for pod in pods}

    def _start_controllers(self, head: str, desired: dict, deployed: dict) -> None:
        assert self.server is not None
        store = self.store
        events = EventRecorder(store)
        containers = Containers(self.state)
        self.kubelet = Kubelet(store, self.state, events, on_started=self._container_started)
        self.argocd = ArgoCdController(
            store, self.state, events, head=head, desired=desired, deployed=dict(deployed),
            on_tenants_changed=self._tenants_changed,
        )  # fmt: skip
        self._controllers = [
            DeploymentController(store, events),
            self.kubelet,
            self.argocd,
            ExternalSecretsController(store, events),
        ]
        if self.scenario.applicationset.mode == "rolling_sync":
            self._controllers.append(RollingSyncController(store, ARGOCD_NAMESPACE, APPLICATIONSET))
        for controller in self._controllers:
            controller.start()
        self.server.api.exec_handler = containers.exec
        self.server.api.port_resolver = port_resolver(store, self.platform_servers)
        self.server.api.logs.source = containers.logs

    def _add_instance(self, tenant: TenantSpec, image_tag: str) -> NextcloudInstance:
        instance = NextcloudInstance.for_tenant(tenant, image_tag, self.s3.endpoint_url)
        self.state.tenants[tenant.name] = tenant
        self.state.instances[tenant.name] = instance
        self._by_host[tenant.hostname.lower()] = instance
        return instance

    def _tenants_changed(self, added: list[TenantSpec], removed: list[str]) -> None:
        """The ApplicationSet generates Applications for new tenant files and deletes those
        whose file is gone."""
        assert self.argocd is not None
        store = self.store
        appset = store.get(APPLICATIONSETS, ARGOCD_NAMESPACE, APPLICATIONSET)
        for tenant in added:
            desired = self.argocd.desired[tenant.name]
            self.s3.provision([tenant])
            if tenant.name not in self.state.instances:  # a deleted Application keeps its Nextcloud
                self._add_instance(tenant, desired.image_tag)
            app = application(
                tenant, appset["metadata"]["uid"], self.argocd.head, "", None, desired, "Missing",
                self.scenario.applicationset.sources,
            )  # fmt: skip
            store.create(APPLICATIONS, app)
        for name in removed:  # Argo CD's resources finalizer then removes what it deployed
            if store.try_get(APPLICATIONS, ARGOCD_NAMESPACE, f"nc-{name}") is not None:
                store.delete(APPLICATIONS, ARGOCD_NAMESPACE, f"nc-{name}")
            instance = self.state.instances.pop(name, None)
            if instance is not None:
                self._by_host.pop(instance.hostname.lower(), None)

    def _container_started(self, namespace: str, image: str) -> None:
        tenant = self.state.tenant_of_namespace(namespace)
        repository, _, tag = image.partition(":")
        if tenant is None or repository.rsplit("/", 1)[-1] != "nextcloud" or not tag:
            return
        instance = self.state.instances[tenant]
        try:
            if version_from_image_tag(tag) != instance.code_version:
                instance.deploy_image(tag)
        except ValueError:
            pass  # a tag without a version (e.g. "latest") leaves the instance as it was

    def _start_web(self) -> None:
        assert self.server is not None
        names = sorted({"*." + h.split(".", 1)[1] for h in self._by_host if "." in h})
        context = self.server.tls.server_context("127.0.0.1", "localhost", *names)
        self.web = NextcloudWeb(self._by_host.get, ssl_context=context)
        self.web.start_in(self.server.loop)

    def _write_config(self) -> None:
        write_console_config(self.config_path, self.web_address, self.s3, self.platform_servers)

    def stop(self) -> None:
        """Stop everything; the working directory stays (repo, config, kubeconfig removed)."""
        if self.prometheus is not None:
            self.prometheus.stop()
        server = self.server
        if server is not None and server._thread is not None and server._thread.is_alive():
            with contextlib.suppress(Exception):  # stopping goes on whatever the loop's state
                server.call(self._stop_in_loop, timeout=10)
        if server is not None:
            server.stop()
        if self.platform_load is not None:
            self.platform_load.stop()
        self.s3.stop()
        self.kubeconfig.unlink(missing_ok=True)

    async def _stop_in_loop(self) -> None:
        for controller in self._controllers:
            controller.stop()
        if self.web is not None:
            await self.web.stop()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses ------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self._server().store

    @property
    def web_address(self) -> str:
        if self.web is None or self.web.port is None:
            raise SimulatorError("the simulator is not started")
        return f"127.0.0.1:{self.web.port}"

    @property
    def web_url(self) -> str:
        return f"https://{self.web_address}"

    @property
    def s3_endpoint(self) -> str:
        return self.s3.endpoint_url

    def token(self, user: str | None = None) -> str:
        """The bearer token of `user` (default: the scenario's first user, the admin)."""
        for spec in self.scenario.rbac.users:
            if user in (None, spec.name):
                return spec.token
        raise SimulatorError(f"user '{user}' is not in the scenario's rbac.users")

    def write_kubeconfig(self, path: Path, user: str | None = None) -> Path:
        """A kubeconfig for `user` (e.g. the read-only `viewer`)."""
        name = user or self.scenario.admin.name
        return self._server().write_kubeconfig(Path(path), user=name, token=self.token(user))

    def _server(self) -> SimServer:
        if self.server is None:
            raise SimulatorError("the simulator is not started")
        return self.server

    def call(self, fn: Any, *args: Any, timeout: float = 30.0, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` in the cluster's loop thread (see SimServer.call)."""
        return self._server().call(fn, *args, timeout=timeout, **kwargs)

    def instance(self, tenant: str) -> NextcloudInstance:
        """The tenant's simulated Nextcloud (read it through `call` while the simulator runs)."""
        try:
            return self.state.instances[tenant]
        except KeyError:
            raise SimulatorError(f"tenant '{tenant}' is not in the scenario") from None

    # --- making things happen -------------------------------------------------------------
    def kill_pod(self, tenant: str, pod: str | None = None) -> str:
        """Delete one of the tenant's pods (the first by name unless `pod` is given), as a
        node failure would; the Deployment replaces it. Returns the deleted pod's name."""
        namespace = f"nc-{self.instance(tenant).tenant}"

        def kill() -> str:
            pods = self.store.list(PODS, namespace)
            names = [p["metadata"]["name"] for p in pods]
            name = pod or (names[0] if names else "")
            if name not in names:
                raise SimulatorError(f"tenant '{tenant}' has no pod '{pod or '?'}'")
            self.store.delete(PODS, namespace, name)
            return name

        return self.call(kill)

    def set_fault(self, tenant: str, fault: str, value: bool | float = True) -> None:
        """Switch one of a tenant's faults (a `TenantFaults` field) on or off while running."""
        if fault not in FAULTS:
            raise SimulatorError(f"unknown fault '{fault}'; one of: {', '.join(FAULTS)}")
        self.instance(tenant)  # a clear error for an unknown tenant
        spec = self.state.tenants[tenant]
        if fault == "bucket_missing":
            if value:
                self.s3.delete_bucket(spec.bucket)
            elif not self.s3.bucket_exists(spec.bucket):
                self.s3.create_bucket(spec.bucket)
                self.s3.put_objects(spec.bucket)
        server = self._server()
        self.call(switch_fault, self.state, server.auth, self.kubelet, tenant, fault, value)
        setattr(spec.faults, fault, value)

    def set_api_faults(
        self,
        *,
        latency: float | None = None,
        drop_watches_every: float | None = None,
        concurrent_writes: dict[str, int] | None = None,
    ) -> None:
        """Slow every API response by `latency` s; end every watch after N s (0: never);
        `concurrent_writes` {"namespace/name": N}: the next N patches of that object find it
        just rewritten by another writer (409 on a resourceVersion precondition)."""

        def apply() -> None:
            faults = self._server().api.faults
            if latency is not None:
                faults.latency = latency
            if drop_watches_every is not None:
                faults.drop_watches_after = drop_watches_every or None
            if concurrent_writes is not None:
                faults.concurrent_writes.update(concurrent_writes)

        self.call(apply)

    def stop_api(self) -> None:
        """The API server stops listening (open watches end); the cluster goes on."""
        self._server().stop_listening()

    def start_api(self) -> None:
        """The API server listens again on the same port, with the same objects and tokens."""
        self._server().start_listening()

    def commit(self, message: str, files: dict[str, str | None]) -> str:
        """Commit repo-relative files (None deletes) to the platform repo; the new HEAD."""
        return commit_change(self.repo, message, files)

    def commit_release(self, chart_version: str, image_tag: str, message: str = "") -> str:
        """Commit a chart/image upgrade to values/common.yaml (and the ApplicationSet's chart
        targetRevision), as a platform engineer would; Argo CD sees it at its next poll."""
        release = Release(chart_version=chart_version, image_tag=image_tag)
        files = release_files(self.scenario, release, repo_default_replicas(self.scenario))
        return self.commit(
            message or f"Upgrade Nextcloud to {image_tag} (chart {chart_version})", files
        )


def desired_chart(desired: dict, scenario: Scenario) -> str:
    """The chart version most tenants are asked to run (the ApplicationSet's)."""
    counts: dict[str, int] = {}
    for version in desired.values():
        counts[version.chart_version] = counts.get(version.chart_version, 0) + 1
    return max(counts, key=counts.__getitem__) if counts else scenario.release.chart_version


def _git_rev(repo: Path, rev: str) -> str:
    done = subprocess.run(
        ["git", "rev-parse", rev], cwd=repo, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SimulatorError(f"{repo}: git rev-parse {rev} failed: {done.stderr.strip()}")
    return done.stdout.strip()
