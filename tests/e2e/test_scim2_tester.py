"""The public conformance checker scim2-tester, run against the live server on both backends.

Every check must pass: nothing is excused.
"""

from __future__ import annotations

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import CheckResult, Status, check_server

from tests.e2e.conftest import Server

FAILING = (Status.ERROR, Status.CRITICAL)


@pytest.fixture(scope="module")
def results(server: Server) -> list[CheckResult]:
    """One full scim2-tester run per backend, in an organisation of its own.

    scim2-client speaks through httpx2. A fresh organisation keeps what other tests
    provisioned out of the checker's lists.
    """
    tenant = server.new_tenant("scim2-tester")
    with httpx2.Client(base_url=tenant.base_url, headers=tenant.headers, timeout=30.0) as http:
        return check_server(SyncSCIMClient(http))


def describe(results: list[CheckResult]) -> str:
    return "\n".join(
        f"- [{r.resource_type or '-'}] {r.title}: {(r.reason or '').strip()[:400]}" for r in results
    )


def test_scim2_tester_finds_no_conformance_failure(
    server: Server, results: list[CheckResult]
) -> None:
    failures = [r for r in results if r.status in FAILING]
    assert not failures, f"scim2-tester failures on {server.backend}:\n{describe(failures)}"
    ran = [r for r in results if r.status is not Status.SKIPPED]
    assert len(ran) > 100, "scim2-tester ran far fewer checks than expected"


def test_scim2_tester_exercises_users_and_groups(results: list[CheckResult]) -> None:
    covered = {r.resource_type for r in results if r.status is Status.SUCCESS}
    assert {"User", "Group"} <= covered
