"""The dashboard in a real browser: Debian's chromium, headless, driven by Selenium through
chromium-driver (scripts/setup --dev installs both). One server and one browser per module.

Set AUDITOR_SCREENSHOTS=DIR to keep the screenshot of every page (docs/img/serve-overview.png
is the overview one)."""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from auditor.cli import main

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium and chromium-driver are not installed"),
]

PAGES = {
    "overview": "/",
    "controls": "/controls?framework=soc2",
    "control": "/controls/soc2/CC6.1",
    "findings": "/findings?status=FAIL",
    "finding": None,  # the first failing finding, found by clicking
    "runs": "/runs",
    "diff": "/diff",
    "reports": "/reports",
}


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--disable-extensions",
        "--no-first-run",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def cli_json(*argv: str) -> object:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(list(argv)) == 0
    return json.loads(out.getvalue())


def console_problems(browser: webdriver.Chrome) -> list[str]:
    """Console errors, CSP violations among them ("Refused to ...")."""
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE" or "Refused" in e["message"]]


def test_every_page_loads_without_console_errors_and_is_screenshotted(
    browser: webdriver.Chrome, live_server, tmp_path: Path
) -> None:
    keep = os.environ.get("AUDITOR_SCREENSHOTS")
    shots = Path(keep) if keep else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    for name, path in PAGES.items():
        if path is None:
            browser.get(live_server.url + "/findings?status=FAIL")
            browser.find_element(By.CSS_SELECTOR, "a.finding-link").click()
        else:
            browser.get(live_server.url + path)
        assert browser.find_element(By.TAG_NAME, "h1").text, name
        assert "auditor" in browser.title
        assert browser.save_screenshot(str(shots / f"serve-{name}.png"))
        assert console_problems(browser) == [], name


def test_click_through_overview_control_finding_diff_matches_the_cli(
    browser: webdriver.Chrome, live_server, seeded_db: Path
) -> None:
    db = str(seeded_db)
    diff = cli_json("diff", "--db", db, "--format", "json")
    runs = cli_json("runs", "--db", db, "--format", "json")
    trend = cli_json("trend", "--db", db, "--framework", "soc2", "--format", "json")
    assert isinstance(diff, dict) and isinstance(runs, list) and isinstance(trend, dict)

    browser.get(live_server.url + "/")
    text = {
        i: browser.find_element(By.ID, i).text
        for i in ("diff-new", "diff-resolved", "diff-changed", "diff-not-rechecked", "last-total", "last-FAIL")
    }
    assert text == {
        "diff-new": str(len(diff["new"])),
        "diff-resolved": str(len(diff["resolved"])),
        "diff-changed": str(len(diff["changed"])),
        "diff-not-rechecked": str(len(diff["not_rechecked"])),
        "last-total": str(runs[0]["summary"]["total"]),
        "last-FAIL": str(runs[0]["summary"]["by_status"]["FAIL"]),
    }
    assert int(text["diff-new"]) > 0 and int(text["diff-resolved"]) > 0  # the drifting band
    latest = {c["control"]: c["statuses"][-1] for c in trend["controls"]}
    for status in ("PASS", "FAIL"):
        shown = browser.find_element(By.ID, f"fw-soc2-{status}").text
        assert shown == str(sum(1 for s in latest.values() if s == status))

    # overview -> controls -> a failing control -> one of its failing findings
    browser.find_element(By.CSS_SELECTOR, "#fw-soc2 a[href^='/controls?']").click()
    failing = next(c for c, s in latest.items() if s == "FAIL")
    browser.find_element(By.LINK_TEXT, failing).click()
    assert f"soc2:{failing}" in browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.CSS_SELECTOR, "a.finding-link").click()
    fingerprint = browser.current_url.rsplit("/", 1)[1]
    history = cli_json("history", fingerprint, "--db", db, "--format", "json")
    assert isinstance(history, dict)
    assert browser.find_element(By.ID, "first-seen").text.startswith(history["finding"]["first_seen_at"])
    assert browser.find_element(By.ID, "finding-resource").text == history["finding"]["resource_id"]

    # -> diff of the last two runs
    browser.get(live_server.url + "/")
    browser.find_element(By.ID, "diff-link").click()
    assert browser.find_element(By.ID, "count-new").text == str(len(diff["new"]))
    assert browser.find_element(By.ID, "count-resolved").text == str(len(diff["resolved"]))
    rows = browser.find_elements(By.CSS_SELECTOR, "#diff-new tbody tr")
    assert len(rows) == len(diff["new"])


def test_a_hostile_resource_name_is_shown_as_text_and_never_runs(browser: webdriver.Chrome, live_server) -> None:
    from serve_seed import HOSTILE

    browser.get(live_server.url + "/findings?resource=onerror")
    cell = browser.find_element(By.CSS_SELECTOR, "td.res")
    assert cell.text == HOSTILE
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert browser.find_element(By.TAG_NAME, "body").is_displayed()  # the <style> payload hid nothing
    assert browser.find_elements(By.CSS_SELECTOR, "main img, main script, main style") == []
    cell.find_element(By.XPATH, "..").find_element(By.CSS_SELECTOR, "a.finding-link").click()
    assert browser.find_element(By.ID, "finding-resource").text == HOSTILE
    assert browser.execute_script("return typeof window.__pwned") == "undefined"
    assert console_problems(browser) == []


def test_a_token_link_sets_an_httponly_cookie_and_leaves_the_address(
    browser: webdriver.Chrome, seeded_db: Path
) -> None:
    from serve_live import LiveServer

    from auditor.serve.app import Dashboard

    token = secrets.token_urlsafe(24)
    server = LiveServer(Dashboard(seeded_db, token=token))
    try:
        browser.get(server.url + "/runs")
        assert "401 unauthorized" in browser.find_element(By.TAG_NAME, "body").text
        browser.get(server.url + f"/findings?status=FAIL&token={token}")
        assert browser.current_url == server.url + "/findings?status=FAIL"  # the token left the address
        assert browser.find_element(By.TAG_NAME, "h1").text == "Findings"
        assert browser.execute_script("return document.cookie") == ""  # HttpOnly: no script can read it
        browser.find_element(By.LINK_TEXT, "Runs").click()
        assert browser.find_element(By.TAG_NAME, "h1").text == "Runs"
    finally:
        browser.delete_all_cookies()
        browser.get_log("browser")  # the 401 above is logged: not another test's problem
        server.close()
