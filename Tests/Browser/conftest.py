"""Fixtures for the dashboard's browser tests: the running stack (from its stack.env), signed provider webhooks, the
provider simulator's record, and one headless Chromium (Debian's, through Debian's chromedriver) for the session.

Run through scripts/browser-test, which installs what is needed and exports the stack's variables.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SESSION_KEY = "hubchat.session.config.v1"


def _read_env_file(path):
    values = {}
    for line in Path(path).read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            values[key] = value
    return values


class Stack:
    """The stack under test: its URL, tenant, tokens and secrets, and ways to act as a provider or the CLI."""

    def __init__(self, env):
        self.env = env
        self.url = env["HUBCHAT_URL"].rstrip("/")
        self.tenant_id = env["HUBCHAT_TENANT_ID"]
        self.admin_token = env["HUBCHAT_TOKEN"]
        self.manager_token = env["HUBCHAT_MANAGER_TOKEN"]
        self.sales_token = env["HUBCHAT_SALES_TOKEN"]
        self.simulator = env["SIMULATOR_URL"].rstrip("/")

    # -- HTTP ----------------------------------------------------------------------------------------------------

    def http(self, method, url, body=None, headers=None, timeout=10):
        """(status, parsed JSON or text) without raising on 4xx/5xx."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if data is not None and "Content-Type" not in (headers or {}):
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def api(self, method, path, token=None, tenant_id=None, body=None):
        headers = {"Authorization": f"Bearer {token or self.admin_token}", "x-tenant-id": tenant_id or self.tenant_id}
        return self.http(method, self.url + path, body, headers)

    def conversation_where(self, predicate, what, token=None, tenant_id=None, timeout=10, channel=""):
        """The newest conversation row that satisfies predicate, once the worker has made it. Follows the cursor
        (up to 30 pages): a thread whose last message is old sorts below everything newer in a busy tenant."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            cursor = None
            for _ in range(30):
                path = f"/api/conversations?limit=100&channel={channel}" + (f"&cursor={cursor}" if cursor else "")
                status, page = self.api("GET", path, token, tenant_id)
                assert status == 200, page
                for row in page["data"]:
                    if predicate(row):
                        return row
                cursor = page["pageInfo"]["nextCursor"]
                if not cursor:
                    break
            time.sleep(0.3)
        raise AssertionError(f"no conversation for {what} after {timeout} s")

    def conversation_by_thread(self, thread_id, **kwargs):
        return self.conversation_where(lambda row: row["channelThreadId"] == thread_id, f"thread {thread_id}", **kwargs)

    # -- providers -----------------------------------------------------------------------------------------------

    def post_line_text(self, user_id, text):
        """A signed LINE webhook: `user_id` writes `text` (as scripts/send-sample-webhook does)."""
        now_ms = int(time.time() * 1000)
        event_id = uuid.uuid4().hex
        self.post_line_events([{
            "type": "message", "mode": "active", "timestamp": now_ms,
            "webhookEventId": f"01BROWSER{event_id}", "deliveryContext": {"isRedelivery": False},
            "source": {"type": "user", "userId": user_id}, "replyToken": event_id,
            "message": {"id": str(now_ms), "type": "text", "quoteToken": f"q{event_id}", "text": text},
        }])
        return event_id  # the event's replyToken: HubChat may answer through LINE's reply API with it

    def post_line_events(self, events):
        """One signed LINE delivery of `events`; asserts that every one was new."""
        body = json.dumps({"destination": self.env["LINE_DESTINATION"], "events": events}, ensure_ascii=False).encode()
        signature = base64.b64encode(
            hmac.new(self.env["LINE_CHANNEL_SECRET"].encode(), body, hashlib.sha256).digest()).decode()
        status, answer = self.http("POST", self.url + "/api/webhook/line", body, {
            "Content-Type": "application/json", "x-line-signature": signature})
        assert status == 200 and answer["stored"] == len(events), (status, answer)

    def post_facebook_comment(self, user_id, name, text):
        """A signed Page feed webhook: `user_id` comments `text` on a post. Answers the comment id."""
        page_id = self.env["FACEBOOK_PAGE_ID"]
        now = int(time.time())
        comment_id = f"{page_id}_{now}{uuid.uuid4().int % 10**6:06d}"
        body = json.dumps({
            "object": "page",
            "entry": [{"id": page_id, "time": now * 1000, "changes": [{"field": "feed", "value": {
                "item": "comment", "verb": "add", "comment_id": comment_id, "post_id": f"{page_id}_1001",
                "from": {"id": user_id, "name": name}, "message": text, "created_time": now}}]}],
        }, ensure_ascii=False).encode()
        signature = "sha256=" + hmac.new(self.env["FACEBOOK_APP_SECRET"].encode(), body, hashlib.sha256).hexdigest()
        status, answer = self.http("POST", self.url + "/api/webhook/facebook", body, {
            "Content-Type": "application/json", "X-Hub-Signature-256": signature})
        assert status == 200 and answer["stored"] == 1, (status, answer)
        return comment_id

    def post_messenger_text(self, psid, text, age_seconds=0):
        """A signed Messenger webhook: `psid` wrote `text`, `age_seconds` ago (Meta's windows start there)."""
        self.post_messenger_message(psid, {"text": text}, age_seconds)

    def post_messenger_message(self, psid, message, age_seconds=0):
        """A signed Messenger webhook: `psid` sent `message` (Meta's `message` object, without its mid)."""
        page_id = self.env["FACEBOOK_PAGE_ID"]
        at_ms = int((time.time() - age_seconds) * 1000)
        body = json.dumps({"object": "page", "entry": [{"id": page_id, "time": at_ms, "messaging": [{
            "sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": at_ms,
            "message": {"mid": f"m_browser_{uuid.uuid4().hex}", **message}}]}]}, ensure_ascii=False).encode()
        signature = "sha256=" + hmac.new(self.env["FACEBOOK_APP_SECRET"].encode(), body, hashlib.sha256).hexdigest()
        status, answer = self.http("POST", self.url + "/api/webhook/facebook", body, {
            "Content-Type": "application/json", "X-Hub-Signature-256": signature})
        assert status == 200 and answer["stored"] == 1, (status, answer)

    def simulator_requests(self):
        status, requests = self.http("GET", self.simulator + "/__requests")
        assert status == 200, requests
        return requests

    # -- the CLI -------------------------------------------------------------------------------------------------

    def cli(self, *args):
        env = {**os.environ, "DATABASE_URL": self.env["DATABASE_URL"], "HUBCHAT_JWT_SECRET": self.env["HUBCHAT_JWT_SECRET"]}
        binary = Path(self.env["HUBCHAT_BIN_DIR"]) / "hubchat"
        done = subprocess.run([str(binary), *args], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"hubchat {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def create_tenant_with_admin(self, label):
        """A fresh tenant with one ADMIN agent; answers (tenant id, that agent's token)."""
        suffix = uuid.uuid4().hex[:8]
        tenant_id = str(uuid.uuid4())
        self.cli("tenant", "add", "--id", tenant_id, "--name", f"{label} {suffix}")
        email = f"admin-{suffix}@isolation.hubchat.local"
        self.cli("agent", "add", "--tenant", tenant_id, "--email", email, "--name", f"{label} Admin", "--role", "ADMIN")
        return tenant_id, self.cli("token", "--tenant", tenant_id, "--email", email, "--ttl-hours", "2")

    def forge_token(self, email, exp_offset_seconds, secret=None):
        """An HS256 token like the CLI's, with any expiry (past ones included) or a wrong key."""
        def b64(data):
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
        now = int(time.time())
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        claims = b64(json.dumps({"aud": "authenticated", "iss": "hubchat", "role": "authenticated", "email": email,
                                 "sub": str(uuid.uuid4()), "iat": now - 3600, "exp": now + exp_offset_seconds}).encode())
        key = (secret or self.env["HUBCHAT_JWT_SECRET"]).encode()
        signature = b64(hmac.new(key, f"{header}.{claims}".encode(), hashlib.sha256).digest())
        return f"{header}.{claims}.{signature}"


@pytest.fixture(scope="session")
def stack():
    run_dir = Path(os.environ.get("HUBCHAT_RUN_DIR") or ROOT / ".run")
    env_file = run_dir / "stack.env"
    if not env_file.exists():
        pytest.exit(f"no {env_file}: start a stack (./scripts/up) or run through scripts/browser-test", returncode=2)
    stack = Stack(_read_env_file(env_file))
    status, _ = stack.http("GET", stack.url + "/api/health")
    if status != 200:
        pytest.exit(f"{stack.url}/api/health answered {status}: is the stack up?", returncode=2)
    return stack


@pytest.fixture(scope="session")
def artifacts():
    path = Path(os.environ.get("HUBCHAT_ARTIFACTS_DIR") or ROOT / ".run" / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def driver():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--disable-extensions", "--no-first-run", "--lang=en-US", "--window-size=1440,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(shutil.which("chromedriver") or "/usr/bin/chromedriver")
    browser = webdriver.Chrome(service=service, options=options)
    browser.set_script_timeout(20)
    yield browser
    browser.quit()


class Page:
    """The browser, with the few moves the tests make over and over."""

    def __init__(self, driver, stack, artifacts):
        self.driver = driver
        self.stack = stack
        self.artifacts = artifacts

    def viewport(self, width, height):
        """Sizes the page's viewport (not the window) to width x height CSS pixels."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})

    def open(self, path):
        self.driver.get(self.stack.url + path)

    def sign_in(self, token=None, tenant_id=None):
        """Stores a session the way /setup does, without going through its form."""
        self.open("/setup")
        self.driver.execute_script(
            "localStorage.setItem(arguments[0], JSON.stringify(arguments[1])); sessionStorage.clear();",
            SESSION_KEY, {"baseUrl": self.stack.url, "tenantId": tenant_id or self.stack.tenant_id,
                          "accessToken": token or self.stack.admin_token})

    def dashboard(self, token=None, tenant_id=None, hash_=""):
        self.sign_in(token, tenant_id)
        self.open("/dashboard" + hash_)
        self.wait(lambda d: d.find_element(By.ID, "conversation-list").get_attribute("aria-busy") == "false",
                  10, "the inbox never finished loading")

    def wait(self, condition, timeout=10, message=""):
        try:
            # The dashboard redraws what changed, so an element read a moment ago may be gone: try again.
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)).until(condition)
        except TimeoutException:
            raise AssertionError(message or "timed out") from None

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        return self.find(css).text

    def wait_live(self, timeout=5):
        """Realtime: the EventSource to /api/realtime is open."""
        try:
            self.wait(lambda d: self.find("#live-status").get_attribute("data-state") == "live", timeout)
        except AssertionError:
            state = self.find("#live-status").get_attribute("data-state")
            raise AssertionError(
                f"realtime did not connect within {timeout} s (live indicator: {state!r}). GET /api/realtime must "
                "answer an event stream (nginx nchan, authorised by the API) for this stack") from None

    def inbox_item(self, predicate_text, timeout=10, message=None):
        """The key (data-key) of the inbox item whose text contains predicate_text. Items are redrawn on every
        update, so tests hold keys and find the element again (item(key)) rather than holding elements."""
        def found(_):
            try:
                for item in self.find_all("#conversation-list [role=option]"):
                    if predicate_text in item.text:
                        return item.get_attribute("data-key")
            except StaleElementReferenceException:
                pass
            return False
        return self.wait(found, timeout, message or f"no inbox item shows {predicate_text!r} after {timeout} s")

    def item(self, key):
        return self.find(f'#conversation-list [role=option][data-key="{key}"]')

    def item_text(self, key, css):
        """The text of an element inside an inbox item, read again if the list was redrawn meanwhile."""
        for _ in range(5):
            try:
                return self.item(key).find_element(By.CSS_SELECTOR, css).text
            except (StaleElementReferenceException, NoSuchElementException):
                time.sleep(0.05)
        return None

    def item_attribute(self, key, name):
        """An attribute of an inbox item, read again if the list was redrawn meanwhile."""
        for _ in range(5):
            try:
                return self.item(key).get_attribute(name)
            except (StaleElementReferenceException, NoSuchElementException):
                time.sleep(0.05)
        return None

    def run_module(self, body):
        """Runs `body` (an async function body that may `await import(...)`) in the page; answers its result."""
        result = self.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            (async () => { %s })().then((value) => done({value}), (e) => done({error: String(e && e.stack || e)}));
        """ % body)
        assert "error" not in result, result["error"]
        return result.get("value")

    def make_jpeg(self, path, label="HubChat"):
        """A real JPEG drawn on a canvas by the browser itself (no image library needed)."""
        data_url = self.driver.execute_script("""
            const c = document.createElement('canvas'); c.width = 480; c.height = 320;
            const g = c.getContext('2d');
            const grad = g.createLinearGradient(0, 0, 480, 320);
            grad.addColorStop(0, '#1f5fbf'); grad.addColorStop(1, '#6ee28f');
            g.fillStyle = grad; g.fillRect(0, 0, 480, 320);
            g.fillStyle = '#fff'; g.font = 'bold 44px sans-serif'; g.fillText(arguments[0], 40, 180);
            return c.toDataURL('image/jpeg', 0.85);
        """, label)
        Path(path).write_bytes(base64.b64decode(data_url.split(",", 1)[1]))
        return path

    def screenshot(self, name):
        path = self.artifacts / name
        self.driver.save_screenshot(str(path))
        return path

    def console_problems(self):
        """Console errors that mean a bug: scripts that threw, and anything the CSP blocked."""
        problems = []
        for entry in self.driver.get_log("browser"):
            message = entry["message"]
            if "Content Security Policy" in message or "Uncaught" in message or (
                    entry["level"] == "SEVERE" and "javascript" in entry.get("source", "")):
                problems.append(message)
        return problems


@pytest.fixture
def page(driver, stack, artifacts, request):
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    p = Page(driver, stack, artifacts)
    p.viewport(1440, 900)
    driver.get_log("browser")  # start each test with an empty console
    yield p
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        p.screenshot(f"failed-{request.node.name}.png")
    problems = p.console_problems()
    try:
        driver.get(stack.url + "/setup")
        driver.execute_script("localStorage.clear(); sessionStorage.clear();")
        driver.get("about:blank")
    except Exception:
        pass
    assert not problems, "browser console reported:\n" + "\n".join(problems)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
