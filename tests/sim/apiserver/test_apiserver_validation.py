"""The simulated apiserver refuses what the real one refuses, with the real 422 body:
core/v1 Events as legacyValidateEvent checks them (kubernetes
pkg/apis/core/validation/events.go) and Argo CD Applications against the CRD's structural
schema (argo-cd manifests/crds/application-crd.yaml), whose unknown fields are pruned."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from ncconsole.sim.apiserver.resources import NAMESPACES
from ncconsole.sim.apiserver.server import SimServer
from tests.fixtures.argocd_upstream import applied, load, upstream_files

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimServer]:
    with SimServer(tls_dir=tmp_path_factory.mktemp("tls")) as srv:
        for ns in ("nc-a", "argocd"):
            srv.call(srv.store.create, NAMESPACES, {"metadata": {"name": ns}})
        yield srv


@pytest.fixture(scope="module")
def api(server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> client.ApiClient:
    return config.new_client_from_config(
        str(server.write_kubeconfig(tmp_path_factory.mktemp("kube") / "kubeconfig"))
    )


_names = itertools.count()


def event(namespace: str, involved: dict, **extra: object) -> dict:
    return {
        "metadata": {"name": f"ncconsole.{next(_names)}", "namespace": namespace},
        "involvedObject": involved,
        "reason": "NcconsoleAction",
        "message": "did a thing",
        "type": "Normal",
        "source": {"component": "ncconsole"},
        **extra,
    }


def invalid(call) -> dict:
    with pytest.raises(ApiException) as exc:
        call()
    assert exc.value.status == 422
    return json.loads(exc.value.body)


def test_legacy_event_about_a_namespace_must_name_its_namespace(api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    about_ns = {"kind": "Namespace", "name": "nc-a", "apiVersion": "v1"}
    body = invalid(lambda: v1.create_namespaced_event("nc-a", event("nc-a", about_ns)))
    assert body["reason"] == "Invalid"
    assert body["message"].startswith('Event "ncconsole.')
    assert body["message"].endswith(
        'is invalid: involvedObject.namespace: Invalid value: "": does not match event.namespace'
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "": does not match event.namespace',
            "field": "involvedObject.namespace",
        }
    ]
    ok = v1.create_namespaced_event("nc-a", event("nc-a", {**about_ns, "namespace": "nc-a"}))
    assert ok.involved_object.namespace == "nc-a"
    # An Event about a cluster-scoped object without a namespace belongs in `default`.
    assert v1.create_namespaced_event("default", event("default", about_ns))


def test_event_namespace_must_equal_the_involved_objects(api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    pod = {"kind": "Pod", "name": "p", "namespace": "argocd", "apiVersion": "v1"}
    body = invalid(lambda: v1.create_namespaced_event("nc-a", event("nc-a", pod)))
    assert 'involvedObject.namespace: Invalid value: "argocd"' in body["message"]


def test_new_style_event_needs_its_reporting_fields(api: client.ApiClient) -> None:
    v1 = client.CoreV1Api(api)
    pod = {"kind": "Pod", "name": "p", "namespace": "nc-a", "apiVersion": "v1"}
    body = invalid(
        lambda: v1.create_namespaced_event(
            "nc-a", event("nc-a", pod, eventTime="2026-01-01T00:00:00.000000Z")
        )
    )
    fields = [c["field"] for c in body["details"]["causes"]]
    assert fields == ["reportingController", "reportingInstance", "action"]
    assert body["message"].endswith(
        "is invalid: [reportingController: Required value, reportingInstance: Required value, "
        "action: Required value]"
    )


def test_application_without_project_or_destination_is_refused(api: client.ApiClient) -> None:
    apps = client.CustomObjectsApi(api)
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "bare"},
        "spec": {"sources": [{"chart": "nextcloud"}]},
    }
    body = invalid(
        lambda: apps.create_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argocd", "applications", app
        )
    )
    assert body["message"] == (
        'Application.argoproj.io "bare" is invalid: [spec.destination: Required value, '
        "spec.project: Required value, spec.sources[0].repoURL: Required value]"
    )


def test_unknown_application_fields_are_pruned(api: client.ApiClient) -> None:
    apps = client.CustomObjectsApi(api)
    app = applied(load("applications", "14-multisource-history"), name="pruned")
    app["bogus"] = {"x": 1}
    app["spec"]["notAField"] = True
    created = apps.create_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", app
    )
    assert "bogus" not in created and "notAField" not in created["spec"]
    patched = apps.patch_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argocd", "applications", "pruned",
        {"operation": {"sync": {"revisions": ["2.6.2", "HEAD"], "sourcePositions": [1, 2]}}},
    )  # fmt: skip
    # sourcePositions is an argocd-server API field; the CRD's SyncOperation has no such field.
    assert patched["operation"]["sync"] == {"revisions": ["2.6.2", "HEAD"]}


def test_upstream_applications_are_accepted_or_refused_like_the_real_crd(
    api: client.ApiClient,
) -> None:
    apps = client.CustomObjectsApi(api)
    for path in upstream_files("applications"):
        doc = applied(load("applications", path.name), name=f"up-{path.stem[:2]}")
        create = lambda doc=doc: apps.create_namespaced_custom_object(  # noqa: E731
            "argoproj.io", "v1alpha1", "argocd", "applications", doc
        )
        if path.stem == "08-no-project":
            body = invalid(create)
            assert body["message"].endswith("is invalid: spec.project: Required value")
        else:
            assert create()["metadata"]["name"] == doc["metadata"]["name"], path.name
