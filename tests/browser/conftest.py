"""Fixtures for the admin console's browser tests: a real `linli-demo` server, real phones
(device stores through the Python bindings) and headless Chromium driven by Selenium.

`run.sh` installs the browser, builds the workspace and generates the bindings first.
Environment overrides: LINLI_PY_BINDINGS (the directory of the generated linli.py),
LINLI_DEMO (the server binary), CHROMIUM / CHROMEDRIVER (the browser and its driver).

Each test module gets its own server (escalation moves the server's clock, which would
touch every other incident) and its own browser; `new_console()` opens another browser
with its own cookies. A failing test leaves a screenshot of every open browser in
target/browser-artifacts/.
"""

import asyncio
import http.cookiejar
import json
import os
import queue
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
BINDINGS = Path(os.environ.get("LINLI_PY_BINDINGS", ROOT / "target/bindings/debug/python"))
SERVER = Path(os.environ.get("LINLI_DEMO", ROOT / "target/debug/linli-demo"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = ROOT / "target/browser-artifacts"

CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-extensions",
    "--window-size=1366,768",
    "--lang=zh-CN",
]

if not (BINDINGS / "linli.py").exists():
    raise pytest.UsageError(
        f"no generated bindings in {BINDINGS}: run bindings/generate.sh debug "
        "(or tests/browser/run.sh)"
    )
sys.path.insert(0, str(BINDINGS))

import linli  # noqa: E402  (needs the path above)

# The device stores are encrypted (SQLCipher); a fixed test key, as in bindings/tests/python.
DB_KEY = bytes(range(1, 33))

CHINESE = re.compile(r"[\u4e00-\u9fff]")

# Every move code of the console (domain/src/codes.rs `IncidentAction::MENU`).
MOVES = ("accept", "dispatch", "start", "resolve", "return", "feedback", "escalate",
         "close", "reopen")


# ---- the server --------------------------------------------------------------------------

@dataclass
class Device:
    user_id: str
    device_id: str
    token: str


@dataclass
class Account:
    login: str
    user_id: str
    password: str
    role: str


class DemoServer:
    """A running `linli-demo --no-simulate --clock-stdin` and what it printed."""

    def __init__(self, proc, lines, url, devices, accounts):
        self.proc = proc
        self.lines = lines  # stdout lines after the address, read by a thread
        self.url = url
        self.devices = devices  # user_id -> Device
        self.accounts = accounts  # user_id -> Account

    def settings(self, user_id):
        return linli.SyncSettings(server_url=self.url, token=self.devices[user_id].token)

    def open_store(self, path, user_id):
        """A fresh device store for a demo user, under the device id the server enrolled."""
        return linli.LinliStore.open(
            str(path), self.devices[user_id].device_id, user_id, DB_KEY
        )

    def advance_clock(self, seconds):
        """Moves the server's clock forward and waits until the server says it did."""
        self.proc.stdin.write(f"advance {seconds}\n")
        self.proc.stdin.flush()
        expected = f"clock advanced {seconds}"
        while True:
            try:
                line = self.lines.get(timeout=10)
            except queue.Empty:
                pytest.fail(f"the server did not answer `advance {seconds}` within 10 s")
            if line is None:
                pytest.fail("the server exited while advancing its clock")
            if line.strip() == expected:
                return

    def api(self, method, path, body=None, user_id="user-admin"):
        """The JSON API (`/api/v1`) with a demo device's token: a check beside the console."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.devices[user_id].token}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def api_incidents(self, user_id="user-admin"):
        answer = self.api("GET", "/api/v1/incidents", user_id=user_id)
        return answer["incidents"] if isinstance(answer, dict) else answer

    def post_login(self, user_id, password):
        """Signs in over plain HTTP as the form would (its csrf field included), without
        following redirects: (status, Set-Cookie headers). The browser cannot show a status."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                             _NoRedirect())
        with opener.open(self.url + "/admin/login", timeout=10) as page:
            html = page.read().decode()
        fields = {"user": self.accounts[user_id].login, "password": password}
        for tag in re.findall(r"<input\b[^>]*>", html):
            if re.search(r'\bname="csrf"', tag):
                fields["csrf"] = re.search(r'\bvalue="([^"]*)"', tag).group(1)
        body = urllib.parse.urlencode(fields).encode()
        try:
            with opener.open(self.url + "/admin/login", data=body, timeout=10) as answer:
                return answer.status, answer.headers.get_all("Set-Cookie") or []
        except urllib.error.HTTPError as e:
            return e.code, e.headers.get_all("Set-Cookie") or []


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _pump(stream, lines):
    for line in stream:
        lines.put(line)
    lines.put(None)


def _read_banner(lines, proc, log_path):
    """Reads stdout up to `listening on …`: the device table and the console accounts."""
    devices, accounts = {}, {}
    while True:
        try:
            line = lines.get(timeout=30)
        except queue.Empty:
            pytest.fail("demo server printed no address within 30 s")
        if line is None:
            log = log_path.read_text(errors="replace")[-2000:]
            pytest.fail(f"demo server exited ({proc.wait()}); its log ends:\n{log}")
        line = line.rstrip("\n")
        if line.startswith("listening on "):
            return line.removeprefix("listening on "), devices, accounts
        cols = line.split("\t")
        if len(cols) == 5 and cols[0] != "user":
            _name, _role, user_id, device_id, token = cols
            devices[user_id] = Device(user_id, device_id, token)
        elif len(cols) == 4 and cols[1] != "user_id":
            # `account <TAB> user_id <TAB> password <TAB> role label`
            login = cols[1] if cols[0] == "account" else cols[0]
            accounts[cols[1]] = Account(login, cols[1], cols[2], cols[3])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`linli-demo --no-simulate --clock-stdin` on a free loopback port, one per module."""
    if not SERVER.exists():
        pytest.fail(f"no demo binary at {SERVER}: cargo build --workspace")
    tmp = tmp_path_factory.mktemp("server")
    log_path = tmp / "server.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [str(SERVER), "--db", str(tmp / "demo.db"), "--listen", "127.0.0.1:0",
         "--no-simulate", "--clock-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "RUST_LOG": "warn"},
    )
    # A reader thread, so a server that hangs before printing fails the test instead of it.
    lines = queue.Queue()
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    try:
        url, devices, accounts = _read_banner(lines, proc, log_path)
        assert {"user-limei", "user-admin"} <= devices.keys(), devices.keys()
        assert {"user-admin", "user-wuye"} <= accounts.keys(), accounts.keys()
        yield DemoServer(proc, lines, url, devices, accounts)
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# ---- phones ------------------------------------------------------------------------------

class Phone:
    """A demo user's phone: a real device store, synced with the real server."""

    def __init__(self, server, path, user_id):
        self.server = server
        self.user_id = user_id
        self.store = server.open_store(path, user_id)

    def sync(self):
        report = asyncio.run(self.store.sync(self.server.settings(self.user_id), None))
        assert report.refused == [], report.refused
        return report

    def report(self, description, place="b-1",
               category=linli.IncidentCategory.LEAK_REPAIR,
               priority=linli.Priority.NORMAL):
        """Reports an incident and syncs it up; returns its id."""
        iid = self.store.report_incident(linli.NewIncident(
            category=category,
            description=description,
            place_id=place,
            household_id=None,
            priority=priority,
            assignee=None,
            dispute=None,
        ))
        self.sync()
        return iid

    def summary(self, iid):
        everything = linli.IncidentFilter(statuses=[], assignee=None, place_id=None)
        found = [s for s in self.store.incidents(everything) if s.id == iid]
        assert found, f"{self.user_id}'s phone does not hold incident {iid}"
        return found[0]


@pytest.fixture(scope="module")
def limei(server, tmp_path_factory):
    """李梅's phone (grid worker of g-1), synced once so it holds the place tree."""
    phone = Phone(server, tmp_path_factory.mktemp("limei") / "limei.db", "user-limei")
    phone.sync()
    return phone


# ---- browsers ----------------------------------------------------------------------------

_open_drivers = []


def start_chromium():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.implicitly_wait(0.2)
    driver.set_page_load_timeout(30)
    _open_drivers.append(driver)
    return driver


def quit_chromium(driver):
    if driver in _open_drivers:
        _open_drivers.remove(driver)
    driver.quit()


ROW_SCRIPT = """
const id = arguments[0];
const row = document.querySelector(`#board-rows tr.incident[data-id="${id}"]`);
if (!row) return null;
const countdown = row.querySelector("span.countdown");
return {
  status: row.dataset.status, level: row.dataset.level, overdue: row.dataset.overdue,
  link: row.querySelector(`a[href="/admin/incidents/${id}"]`) !== null,
  elements: Array.from(row.querySelectorAll("*"), e => e.tagName.toLowerCase()),
  countdown: countdown && countdown.textContent.trim(),
  deadline: countdown && Number(countdown.dataset.deadline),
  text: row.textContent,
};
"""


class Console:
    """One browser on the admin console, with the contract's selectors in one place."""

    def __init__(self, driver, server):
        self.driver = driver
        self.server = server

    # -- navigation and waiting

    def open(self, path):
        self.driver.get(self.server.url + path)

    def path(self):
        return urllib.parse.urlsplit(self.driver.current_url).path

    def wait(self, condition, timeout=10, message=""):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.2,
                             ignored_exceptions=(StaleElementReferenceException,)
                             ).until(condition, message)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        found = self.find_all(css)
        return found[0].text if found else None

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def submit(self, form):
        """Clicks the form's submit button and waits for the next page to load."""
        button = form.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit], "
                                                    "button:not([type])")
        self.js("window.__linliSubmitted = true")
        button.click()
        self.wait(_next_page_loaded, message="the form was not submitted")

    def screenshot(self, name):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(ARTIFACTS / name))

    # -- signing in and out

    def sign_in(self, user_id, password=None):
        """Signs in through the login form with fresh cookies; returns the path landed on."""
        account = self.server.accounts[user_id]
        self.driver.delete_all_cookies()
        self.open("/admin/login")
        form = self.find("form#login")
        form.find_element(By.NAME, "user").send_keys(account.login)
        form.find_element(By.NAME, "password").send_keys(
            account.password if password is None else password)
        self.submit(form)
        return self.path()

    def sign_out(self):
        self.submit(self.find("form#logout"))

    # -- the board

    def board(self, **filters):
        query = urllib.parse.urlencode(filters)
        self.open("/admin/board" + (f"?{query}" if query else ""))
        self.find("table#board tbody#board-rows")

    def row(self, iid):
        """What the board's row of an incident says, read in one go (the rows are swapped
        every 10 s, so elements go stale), or None while there is no such row."""
        return self.js(ROW_SCRIPT, iid)

    def row_ids(self):
        return self.js("return Array.from(document.querySelectorAll("
                       "'#board-rows tr.incident'), r => r.dataset.id)")

    def wait_for_row(self, iid, timeout=15, until=lambda row: True, message=None):
        """Waits for the incident's row (and for `until(row)`); returns the row."""
        def ready(_driver):
            row = self.row(iid)
            return row if row is not None and until(row) else None
        return self.wait(ready, timeout, message or
                         f"incident {iid} did not appear on the board within {timeout} s")

    def mark_page(self):
        """Marks the loaded page, so `page_marked` tells whether it was reloaded since."""
        self.js("window.__linliMark = 'kept'")

    def page_marked(self):
        return self.js("return window.__linliMark") == "kept"

    # -- an incident's page

    def incident(self, iid):
        self.open(f"/admin/incidents/{iid}")
        return self.find("dl#incident")

    def status(self):
        return self.find("dl#incident").get_attribute("data-status")

    def level(self):
        return self.find("dl#incident").get_attribute("data-level")

    def timeline(self):
        return [li.get_attribute("data-action") for li in self.find_all("ol#timeline li.event")]

    def moves(self):
        return [f.get_attribute("data-action") for f in self.find_all("form.move")]

    def move(self, action, note="", **selects):
        """Makes a move through its form (`selects`: select name -> option value); returns
        (notice, error) as the page after it shows them."""
        found = self.find_all(f'form.move[data-action="{action}"]')
        assert found, f"no {action} form on the page; offered: {self.moves()}"
        form = found[0]
        if note:
            form.find_element(By.NAME, "note").send_keys(note)
        for name, value in selects.items():
            Select(form.find_element(By.NAME, name)).select_by_value(value)
        self.submit(form)
        return self.text("p.notice"), self.text("p.error")


def _next_page_loaded(driver):
    """Whether the page that set `__linliSubmitted` has been replaced and the next one loaded.
    While the browser navigates, a script may fail: that is "not yet"."""
    try:
        return driver.execute_script(
            "return window.__linliSubmitted === undefined && document.readyState === 'complete'")
    except WebDriverException:
        return False


@pytest.fixture(scope="module")
def new_console(server):
    """Opens a browser of its own (own cookies) on the console; all closed after the module."""
    drivers = []

    def open_one():
        driver = start_chromium()
        drivers.append(driver)
        return Console(driver, server)

    yield open_one
    for driver in drivers:
        quit_chromium(driver)


@pytest.fixture(scope="module")
def console(new_console):
    """The module's browser on the console."""
    return new_console()


@pytest.fixture
def signed_in(console):
    """`signed_in(user_id)`: the module's browser, signed in afresh as that console account."""
    def sign_in(user_id, on=None):
        target = on or console
        landed = target.sign_in(user_id)
        assert landed == "/admin/board", f"{user_id} landed on {landed}"
        return target
    return sign_in


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A screenshot of every open browser when a test fails."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and report.when in ("setup", "call"):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]", "_", item.nodeid.split("::")[-1])
        for i, driver in enumerate(_open_drivers):
            try:
                driver.save_screenshot(str(ARTIFACTS / f"FAILED-{name}-{i}.png"))
            except Exception:  # a dead browser has nothing to show
                pass
