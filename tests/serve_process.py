"""A real `vitalsight serve` in a subprocess for end-to-end tests, with the test credentials.

Reads go through clickhouse-connect to the query endpoint, as every reader does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from vitalsight.exporters.reader import connect_reader
from vitalsight.service import serve_process

QUERY_USER = "tester"
QUERY_PASSWORD = "test-password"


@dataclass
class ServeProcess(serve_process.ServeProcess):
    query_user: str = QUERY_USER
    query_password: str = QUERY_PASSWORD

    def client(self) -> Any:
        return connect_reader(self.query_url, username=QUERY_USER, password=QUERY_PASSWORD)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        client = self.client()
        try:
            return [tuple(r) for r in client.query(sql).result_rows]
        finally:
            client.close()

    def wait_for_count(
        self, table: str, expected: int, *, where: str = "1", timeout_s: float = 20.0
    ) -> int:
        """Poll until `table` has at least `expected` rows matching `where`."""
        deadline = time.monotonic() + timeout_s
        count = -1
        while time.monotonic() < deadline:
            count = int(self.rows(f"SELECT count() FROM {table} WHERE {where}")[0][0])
            if count >= expected:
                return count
            time.sleep(0.2)
        return count
