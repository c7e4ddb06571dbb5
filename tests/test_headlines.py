"""Issue 16 (honest headlines): every number a park manager reads means what its label says.

Each test reproduces one misleading statement the issue reported and checks it is gone at
its source (the analysis), so the CLI, the report and the workbench agree.
"""

from __future__ import annotations

import pytest

import rainforest as rf
from rainforest import report

PARK = "docs/examples/park.yaml"


@pytest.fixture(scope="module")
def park() -> rf.Ecosystem:
    return rf.load(PARK)


def test_cluster_curve_ends_at_the_plan_without_a_limit(park: rf.Ecosystem) -> None:
    """The last radius is the largest offer-need distance, not that distance rounded down
    (which left the farthest candidate out: 13.8 million against 15 million)."""
    curve = report.radius_curve(park)
    assert curve["benefit"][-1] == pytest.approx(curve["unlimited"]["benefit"])
    located = {a.id: a.location for a in park.actors if a.location is not None}
    assert curve["radius_km"][-1] == pytest.approx(max(report._sections._offer_need_distances(park, located)))
