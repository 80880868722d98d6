"""The public conformance checker scim2-tester, run against the live server on both backends."""

from __future__ import annotations

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import CheckResult, Status, check_server

from tests.e2e.conftest import Server

FAILING = (Status.ERROR, Status.CRITICAL)


def _run(server: Server) -> list[CheckResult]:
    with httpx2.Client(base_url=server.base_url, headers=server.tenant.headers,
                       timeout=30.0) as http:
        client = SyncSCIMClient(http)
        return check_server(client)


def test_scim2_tester_reports_no_failures(server: Server) -> None:
    results = _run(server)
    for r in results:
        print(r.status.name, r.resource_type, r.title, (r.reason or "")[:300])
    failures = [r for r in results if r.status in FAILING]
    assert not failures
