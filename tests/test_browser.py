"""The page in a real browser: headless Chromium, driven by Playwright, against `matryoshka viz`.

The server is started as `matryoshka viz` starts it (Solara in production mode: no file watching),
once for the module; each test opens its own page, which is a browser session with its own model.
Skipped (with the reason) only when Chromium or Playwright is missing on a developer's machine;
with CI=true a missing browser fails the test instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from matryoshka.model.scenarios import REGISTRY

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
UI_TIMEOUT_MS = 20_000  # generous: CI machines are shared, and a slow step is not a wrong one
RUN_TIMEOUT_MS = 120_000  # a whole training run without redrawing, on a busy machine
WIDE, NARROW = {"width": 1400, "height": 1000}, {"width": 800, "height": 1000}

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    missing = [] if CHROMIUM.exists() else [f"Chromium ({CHROMIUM}; apt-get install chromium)"]
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if not missing:
        return
    reason = "browser test needs " + " and ".join(missing)
    if os.environ.get("CI") == "true":
        pytest.fail(reason + "; CI=true, so it must run, not skip")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(server: subprocess.Popen) -> None:
    """End the server's process group (`matryoshka viz` and its Solara), even if it already exited."""
    with contextlib.suppress(ProcessLookupError):  # nothing left of the group
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


@contextlib.contextmanager
def _viz_server(log: Path, cwd: Path, timeout: float = 60) -> Iterator[str]:
    """Run `matryoshka viz` on a free port, from a directory outside the checkout; yield its URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, "-m", "matryoshka.runs", "viz", "--port", str(port)]
    with log.open("w") as out:
        server = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the server did not start:\n{log.read_text()}")
                time.sleep(0.3)
        yield url
    finally:
        _stop(server)


def test_stopping_a_server_that_already_exited_does_not_raise() -> None:
    server = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    server.wait()
    _stop(server)
    assert server.returncode == 0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    _require_browser()
    where = tmp_path_factory.mktemp("viz")
    log = where / "server.log"
    with _viz_server(log, where) as url:
        yield url, log
    text = log.read_text()
    assert "Traceback" not in text and "Could not load URL" not in text, text


@pytest.fixture(scope="module")
def browser(server) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(server, browser) -> Iterator[Any]:
    """A new browser session on the page, at 1400 x 1000; no errors may appear in it."""
    url, log = server
    page = browser.new_page(viewport=WIDE)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("svg.matryoshka-world circle", timeout=60_000)  # the world, with organisms
    page.wait_for_selector(".matryoshka-chart canvas", timeout=60_000)  # the charts
    yield page
    page.close()
    assert not errors, errors
    assert "Traceback" not in log.read_text()


def _expect(locator: Any) -> Any:
    from playwright.sync_api import expect

    return expect(locator)


def _button(page: Any, name: str) -> Any:
    return page.get_by_role("button", name=name, exact=True)


def _choose(page: Any, select: str, value: str) -> None:
    """Open a select by its class and click one of its values."""
    page.locator(f".{select}").click()
    page.locator(".menuable__content__active .v-list-item").get_by_text(value, exact=True).click()
    _expect(page.locator(f".{select} .v-select__selection")).to_have_text(value)


def _type(page: Any, key: str, text: str) -> None:
    box = page.locator(f".matryoshka-param-{key} input")
    box.fill(text)
    box.press("Enter")


def _step(page: Any) -> int:
    return int(re.search(r"step (\d+)", page.locator(".matryoshka-phase").inner_text()).group(1))


def _wait_for_step_beyond(page: Any, step: int, timeout: int = UI_TIMEOUT_MS) -> None:
    page.wait_for_function(
        "n => { const m = document.querySelector('.matryoshka-phase').innerText.match(/step (\\d+)/);"
        " return m !== null && Number(m[1]) > n; }",
        arg=step, timeout=timeout,
    )  # fmt: skip


def _reset(page: Any, scenario: str) -> None:
    """Press Reset and wait until the Information card names the new model's scenario and step 0."""
    _button(page, "Reset").click()
    _expect(page.locator(".matryoshka-form-error")).to_have_count(0)
    _expect(page.locator(".matryoshka-pending")).to_have_count(0)
    _expect(page.locator(".matryoshka-info-scenario")).to_have_text(f"Scenario: {scenario}")
    _expect(page.locator(".matryoshka-info-step")).to_have_text("Step: 0")


def _running(page: Any, key: str, control: str) -> str:
    """A parameter of the running model, from the Information card's list of them.

    Waits until the card and the control ``control`` (a CSS selector of an element whose text or
    value shows the parameter) agree, since the two redraw in separate renders after a Reset; a
    sidebar that never shows what the model runs with fails here after the timeout.
    """
    page.wait_for_function(
        "([key, control]) => { const card = document.querySelector(`tr[data-param=${key}] .value`);"
        " const shown = document.querySelector(control);"
        " if (card === null || shown === null) return false;"
        " const text = shown.tagName === 'INPUT' ? shown.value : shown.textContent;"
        " return text.trim() === card.textContent.trim(); }",
        arg=[key, control], timeout=20_000,
    )  # fmt: skip
    return page.locator(f"tr[data-param={key}] .value").text_content()


def test_the_sidebar_shows_what_the_model_runs_with(page) -> None:
    for scenario in sorted(REGISTRY):
        _choose(page, "matryoshka-param-scenario", scenario)
        _reset(page, scenario)
        shown = ".matryoshka-param-selection .v-select__selection"
        _expect(page.locator(shown)).to_have_text(_running(page, "selection", shown))
        for key in ("population", "deception_share"):
            shown = f".matryoshka-param-{key} input"
            _expect(page.locator(shown)).to_have_value(_running(page, key, shown))
        random_exit = page.locator(".matryoshka-param-random_exit_share")
        _expect(random_exit).to_have_count(1 if "random_exit_share" in REGISTRY[scenario].params else 0)
    _choose(page, "matryoshka-param-scenario", "approval-v1")
    _expect(page.locator(".matryoshka-param-deception_share input")).to_have_value("0.3")
    _type(page, "deception_share", "0")
    _reset(page, "approval-v1")
    _expect(page.locator("tr[data-param=deception_share] .value")).to_have_text("0")
    _expect(page.locator(".matryoshka-param-deception_share input")).to_have_value("0")


def test_a_refused_seed_is_a_message_and_the_page_still_steps(page) -> None:
    _type(page, "seed", "abc")
    _button(page, "Reset").click()
    _expect(page.locator(".matryoshka-form-error")).to_contain_text(
        "seed 'abc' is not allowed: expected a whole number"
    )
    step = _step(page)
    _button(page, "Step").click()
    _wait_for_step_beyond(page, step)


def test_run_to_end_of_training_then_shift(page) -> None:
    _type(page, "population", "20")
    _reset(page, "maze-v2")
    _button(page, "Run to end of training").click()
    phase = page.locator(".matryoshka-phase")
    _expect(phase).to_contain_text("the last training generation", timeout=RUN_TIMEOUT_MS)
    _expect(_button(page, "Run to end of training")).to_be_disabled()
    _button(page, "Shift to deployment").click()
    _expect(phase).to_contain_text("Phase: deployment")
    _expect(_button(page, "Shift to deployment")).to_be_disabled()


def test_clicks_during_play_are_safe(page) -> None:
    """Shift to deployment and another feature layer, 20 clicks in all, while Play runs."""
    features = ("landmark", "dist_origin", "exit_signal", "landmark")
    _type(page, "population", "40")
    clicks = 0
    for _ in range(4):
        _reset(page, "maze-v2")
        page.locator(".matryoshka-play").click()
        _wait_for_step_beyond(page, 2)
        _button(page, "Shift to deployment").click()
        clicks += 1
        shifted = _step(page)
        for feature in features:
            _choose(page, "matryoshka-feature", feature)
            clicks += 1
        _expect(page.locator(".matryoshka-phase")).to_contain_text("Phase: deployment")
        _wait_for_step_beyond(page, shifted)  # Play went on (deployment lasts 80 steps)
    assert clicks == 20
    _expect(page.locator(".matryoshka-run-error")).to_have_count(0)
    _reset(page, "maze-v2")  # Reset also pauses
    _button(page, "Step").click()
    _wait_for_step_beyond(page, 0)


def _box(page: Any, selector: str) -> dict[str, float]:
    return page.locator(selector).first.bounding_box()


def test_layout_wide_and_narrow_with_a_selected_agent(page, tmp_path: Path) -> None:
    """Screenshots at 1400 x 1000 and 800 x 1000 (in the test's temporary directory) of the story:
    trained, shifted, 20 steps into deployment, a tool selected."""
    _type(page, "population", "40")
    _reset(page, "maze-v2")
    _button(page, "Run to end of training").click()
    phase = page.locator(".matryoshka-phase")
    _expect(phase).to_contain_text("the last training generation", timeout=RUN_TIMEOUT_MS)
    _button(page, "Shift to deployment").click()
    _expect(phase).to_contain_text("Phase: deployment")
    shifted = _step(page)
    page.locator(".matryoshka-play").click()
    _wait_for_step_beyond(page, shifted + 20)
    page.locator(".matryoshka-play").click()  # pause
    _expect(_button(page, "Step")).to_be_enabled()
    tool = page.locator("svg.matryoshka-world polygon[data-agent]").first  # a Level-2 tool
    tool.dispatch_event("click")  # a click on it, wherever other markers overlap it
    _expect(page.locator(".matryoshka-chain-table")).to_be_visible()
    _expect(page.locator("svg.matryoshka-world polyline.matryoshka-chain")).to_have_count(1)
    world, chart = _box(page, "svg.matryoshka-world"), _box(page, ".matryoshka-chart")
    page.screenshot(path=str(tmp_path / "app-1400.png"))
    assert world["x"] + world["width"] <= chart["x"]  # side by side: the world left of the charts
    assert world["y"] < chart["y"] + chart["height"] and chart["y"] < world["y"] + world["height"]
    page.set_viewport_size(NARROW)
    page.wait_for_timeout(500)  # the charts follow their new width
    world, chart = _box(page, "svg.matryoshka-world"), _box(page, ".matryoshka-chart")
    page.screenshot(path=str(tmp_path / "app-800.png"))
    assert chart["y"] >= world["y"] + world["height"]  # stacked: the charts under the world
    assert world["x"] >= 0 and world["x"] + world["width"] <= NARROW["width"]
    for name in ("app-1400.png", "app-800.png"):
        assert (tmp_path / name).stat().st_size > 10_000
