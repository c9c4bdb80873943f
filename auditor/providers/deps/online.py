"""Advisory details for the online OSV path: `GET <base>/v1/vulns/<id>`.

pip-audit's JSON keeps only ids, aliases, fixed versions and a description; the
severity (CVSS vector or database label) comes from the full OSV record, fetched from
the same OSV-compatible service pip-audit queried.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

from auditor.vulndb.osv import AdvisoryRecord, RecordError, parse_record

MAX_RECORD_BYTES = 4 * 1024 * 1024


def vulns_url(osv_query_url: str, vuln_id: str) -> str:
    """`https://api.osv.dev/v1/query` -> `https://api.osv.dev/v1/vulns/<id>`."""
    base = osv_query_url.rstrip("/")
    for suffix in ("/v1/query", "/v1/querybatch"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return f"{base}/v1/vulns/{urllib.parse.quote(vuln_id, safe='')}"


class AdvisoryFetcher:
    """Fetches and caches full OSV records; failures are remembered, not retried."""

    def __init__(self, osv_query_url: str, timeout: float = 15.0) -> None:
        self.osv_query_url = osv_query_url
        self.timeout = timeout
        self._cache: dict[str, AdvisoryRecord | str] = {}

    def fetch(self, vuln_id: str) -> AdvisoryRecord | str:
        """The record, or the reason it could not be had (a string)."""
        if vuln_id not in self._cache:
            self._cache[vuln_id] = self._fetch(vuln_id)
        return self._cache[vuln_id]

    def _fetch(self, vuln_id: str) -> AdvisoryRecord | str:
        url = vulns_url(self.osv_query_url, vuln_id)
        if not url.startswith(("http://", "https://")):
            return f"not an http(s) URL: {url}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as resp:
                data = resp.read(MAX_RECORD_BYTES + 1)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return f"advisory details unavailable ({exc})"
        if len(data) > MAX_RECORD_BYTES:
            return "advisory record too large"
        try:
            return parse_record(json.loads(data))
        except (ValueError, RecordError) as exc:
            return f"advisory record unusable ({exc})"
