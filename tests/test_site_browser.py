"""The built site in a real headless browser (Debian's chromium, driven by selenium through
/usr/bin/chromedriver: nothing is downloaded). Every page of the nav loads from a server on
127.0.0.1; none shows raw TeX outside code (``\\frac``, ``\\[``, ``$$``), every image loads,
every formula is rendered as MathML with a size, the console has no error, and no request
the page makes leaves the site. A screenshot of each page is saved (to
$CONVALGEBRA_SCREENSHOTS when set, else a temporary folder).

Under CI (CI=true) a missing browser, driver or selenium fails the test: .ci/run installs
them. On a developer's machine without them the test skips and says what to install."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from test_docs_site import config, nav_pages

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,1600"]
PAGES = nav_pages(config()["nav"])
# TeX a reader should never see: a command, display delimiters, a $...$ span
RAW_TEX = re.compile(r"\\(?:frac|left|right|begin|end|sqrt|text|displaystyle|cdot|quad|mathrm|operatorname)\b"
                     r"|\\\[|\\\]|\\\(|\\\)|\$\$|\$[^$\s][^$\n]*\$|\^\{")


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(found: object, what: str) -> None:
    if found:
        return
    if under_ci():
        pytest.fail(f"{what} is missing; .ci/run installs it (apt-get install chromium chromium-driver; "
                    f"pip install -e '.[test]')")
    pytest.skip(f"{what} is not installed: apt-get install chromium chromium-driver, pip install selenium")


def url_of(page: str) -> str:
    stem = page[:-3]
    return "" if stem == "index" else f"{stem}/"


@pytest.fixture(scope="module")
def server(site):
    """The built site over HTTP on 127.0.0.1 (a free port), as `mkdocs serve` or any static host serves it."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    need(chromium, "chromium")
    need(driver_path, "chromedriver (Debian's chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        need(False, "selenium")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    driver.get("about:blank")  # away from the new-tab page and its own requests
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = os.environ.get("CONVALGEBRA_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return Path(folder)
    return tmp_path_factory.mktemp("screenshots")


def requests_made(driver) -> list[str]:
    """Every URL the page asked for since the last call: the DevTools log of requests sent
    (fetches that fail are in it too) and the page's resource timing."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    urls += driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return urls


LOOK = """
const done = arguments[arguments.length - 1];
const images = Array.from(document.images);
Promise.all(images.map(i => i.decode().catch(() => null))).then(() => {
  const hide = document.createElement('style');
  hide.textContent = 'pre, code, script, style { display: none !important; }';
  document.head.appendChild(hide);
  const text = document.body.innerText;
  hide.remove();
  const maths = Array.from(document.querySelectorAll('math'));
  done({
    title: document.title,
    text: text,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    images: images.length,
    maths: maths.length,
    mathml: maths.length === 0 || maths[0] instanceof MathMLElement,
    flat: maths.filter(m => { const r = m.getBoundingClientRect(); return !(r.width > 0 && r.height > 0); })
               .map(m => m.getAttribute('alttext')),
    height: document.documentElement.scrollHeight,
  });
});
"""


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p[:-3])
def test_page_in_a_real_browser(browser, server, screenshots, page):
    requests_made(browser)  # empty the log
    browser.get(server + url_of(page))
    seen = browser.execute_async_script(LOOK)
    browser.save_screenshot(str(screenshots / (page[:-3].replace("/", "-") + ".png")))
    made = requests_made(browser)

    assert seen["title"] and "404" not in seen["title"], seen["title"]
    assert any(u.startswith(server) for u in made), "no request recorded: the log is not being kept"
    network = [u for u in made if re.match(r"(?:https?|wss?|ftp)://", u, re.I)]  # not data:, blob:, about:
    outside = [u for u in network if not u.startswith(server)]
    assert outside == [], f"requests leaving the site: {outside}"
    assert seen["broken"] == [], f"images that did not load: {seen['broken']}"
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(seen["text"])})
    assert raw == [], f"raw TeX in the visible text: {raw}"
    assert seen["mathml"], "the browser does not take <math> for MathML"
    assert seen["flat"] == [], f"formulas rendered with no size: {seen['flat']}"
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    if page.startswith(("modules/", "notebooks/")) or page in ("index.md", "networks.md"):
        assert seen["maths"] > 0 and seen["images"] > 0, (seen["maths"], seen["images"])  # formulas and figures
