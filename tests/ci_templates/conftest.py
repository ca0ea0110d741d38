"""Fixtures of the CI template tests: GitLab's tools (the GitLab stand-in and `mltracker serve` in
GitLab mode come from tests/conftest.py)."""
from __future__ import annotations

import pytest

from tests.ci_templates.ci_tools import NodeTools, install_node_tools
from tests.conftest import IN_CI


@pytest.fixture(scope="session")
def node_tools() -> NodeTools:
    try:
        return install_node_tools()
    except RuntimeError as exc:
        if IN_CI:
            pytest.fail(f"{exc} (CI=true: the templates must run in gitlab-ci-local)")
        pytest.skip(str(exc))
