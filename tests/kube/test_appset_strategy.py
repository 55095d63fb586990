"""RollingSync steps select Applications exactly as the ApplicationSet controller does
(argo-cd applicationset/progressivesync/progressive_sync.go labelMatchedExpression): only In
and NotIn are operators, any other one on a present label selects nothing, and a missing
label fails only an In. The old console took unknown operators for a match."""

from __future__ import annotations

import pytest

from ncconsole.kube.appset_strategy import parse_appset_strategy
from ncconsole.sim.controllers.appset import step_of
from tests.fixtures.argocd_upstream import load


def strategy(*steps: list[dict]) -> dict:
    return {
        "metadata": {"name": "tenants"},
        "spec": {
            "strategy": {
                "type": "RollingSync",
                "rollingSync": {"steps": [{"matchExpressions": e} for e in steps]},
            }
        },
    }


@pytest.mark.parametrize(
    ("expression", "labels", "step"),
    [
        ({"key": "wave", "operator": "In", "values": ["1"]}, {"wave": "1"}, 1),
        ({"key": "wave", "operator": "In", "values": ["1"]}, {"wave": "2"}, -1),
        ({"key": "wave", "operator": "In", "values": ["1"]}, {}, -1),
        ({"key": "wave", "operator": "NotIn", "values": ["1"]}, {"wave": "2"}, 1),
        ({"key": "wave", "operator": "NotIn", "values": ["1"]}, {}, 1),
        # Exists, DoesNotExist, Gt, a typo: invalid there, they select nothing ...
        ({"key": "wave", "operator": "Exists"}, {"wave": "1"}, -1),
        ({"key": "wave", "operator": "in", "values": ["1"]}, {"wave": "1"}, -1),
        ({"key": "wave", "values": ["1"]}, {"wave": "1"}, -1),
        # ... unless the label is missing: then only In fails.
        ({"key": "wave", "operator": "Exists"}, {}, 1),
    ],
)
def test_step_selection_matches_the_controller(expression, labels, step) -> None:
    parsed = parse_appset_strategy(strategy([expression]))
    assert parsed.step_of(labels) == step
    assert (
        step_of(strategy([expression])["spec"]["strategy"]["rollingSync"]["steps"], labels) == step
    )


def test_upstream_progressive_syncs_example() -> None:
    """docs/operator-manual/applicationset/Progressive-Syncs.md: envLabel In dev / qa-* / prod."""
    appset = load("applicationsets", "01-progressive-syncs-guestbook")
    parsed = parse_appset_strategy(appset)
    assert parsed.type == "RollingSync" and len(parsed.steps) == 3
    first = parsed.steps[0].match_expressions[0]
    assert parsed.step_of({first["key"]: first["values"][0]}) == 1
    assert parsed.step_of({"unrelated": "x"}) == -1
