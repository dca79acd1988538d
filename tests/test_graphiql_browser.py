"""GraphiQL served by the app itself: the page, its assets, and a real browser using it.

The browser is Debian's Chromium (`make chromium` installs it), driven by Playwright
for Python with no browser download. Every request for another host is aborted and
recorded, so the test fails if the page tries to load anything from elsewhere.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect, sync_playwright

from devstack.app_server import AppServer
from graphql_api.app import create_app
from graphql_api.settings import load_settings
from graphql_api.stores.demo import demo_data
from tests.utils.jwt_tokens import auth_env

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Chromium starts in a second or two here; the generous bound is for a busy 2-core machine.
UI_TIMEOUT_MS = 30_000
ASSETS = {
    "graphiql.js": "text/javascript",
    "graphiql.css": "text/css",
    "editor.worker.js": "text/javascript",
    "json.worker.js": "text/javascript",
    "graphql.worker.js": "text/javascript",
}

DEMO = demo_data()
CUSTOMER = DEMO.customers[0]
REP = next(rep for rep in DEMO.sales_reps if rep.id == CUSTOMER.sales_rep_id)
TOKEN = "Bearer graphiql-browser-test"


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def serve(env: dict[str, str]) -> AppServer:
    return AppServer(create_app(load_settings(env)))


@pytest.fixture(scope="module")
def app() -> Iterator[AppServer]:
    env = {"GRAPHQL_API_STORES": "memory", "GRAPHQL_API_FEED_POLL_INTERVAL": "0.05"}
    with serve(env) as server:
        yield server


@pytest.fixture
def http(app: AppServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app.base_url, timeout=30) as client:
        yield client


def test_browser_get_serves_page_that_loads_only_same_origin_files(http: httpx.Client) -> None:
    response = http.get("/graphql", headers={"Accept": BROWSER})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    references = re.findall(r'(?:src|href)="([^"]*)"', response.text)
    assert sorted(references) == [
        "/graphql/assets/graphiql.css",
        "/graphql/assets/graphiql.js",
        "data:,",
    ]
    assert "<script>" not in response.text  # no inline script: script-src stays 'self'


def test_page_csp_forbids_other_origins(http: httpx.Client) -> None:
    response = http.get("/graphql", headers={"Accept": "text/html"})
    directives = csp_directives(response.headers["content-security-policy"])
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
    assert directives["frame-ancestors"] == ["'none'"]
    sources = [source for values in directives.values() for source in values]
    assert not [s for s in sources if "://" in s or "*" in s or s in {"http:", "https:"}]


@pytest.mark.parametrize(("name", "content_type"), ASSETS.items(), ids=list(ASSETS))
def test_assets_are_served_by_the_app(http: httpx.Client, name: str, content_type: str) -> None:
    response = http.get(f"/graphql/assets/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(content_type)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert len(response.content) > 1000


@pytest.mark.parametrize("name", ASSETS, ids=list(ASSETS))
def test_assets_are_gzipped_for_clients_that_accept_it(http: httpx.Client, name: str) -> None:
    plain = http.get(f"/graphql/assets/{name}", headers={"Accept-Encoding": "identity"})
    gzipped = http.get(f"/graphql/assets/{name}", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert gzipped.headers["content-encoding"] == "gzip"
    assert gzipped.headers["content-type"] == plain.headers["content-type"]
    assert gzipped.headers["vary"] == "Accept-Encoding"
    assert int(gzipped.headers["content-length"]) < len(plain.content)
    assert gzipped.content == plain.content  # httpx decoded it: the same file


def test_get_with_query_still_answers_json(http: httpx.Client) -> None:
    response = http.get(
        "/graphql",
        params={"query": f'{{ customer(id: "{CUSTOMER.id}") {{ name }} }}'},
        headers={"Accept": BROWSER},
    )
    assert response.status_code == 200
    assert response.json() == {
        "data": {"customer": {"name": CUSTOMER.name}},
        "extensions": {
            "stores": {"used": ["MEMORY"], "degraded": False},
            "cost": {"requestedQueryCost": 1, "maximumQueryCost": 100_000},
        },
    }


def test_post_still_answers_json(http: httpx.Client) -> None:
    response = http.post(
        "/graphql",
        json={"query": f'{{ customer(id: "{CUSTOMER.id}") {{ name }} }}'},
        headers={"Accept": "text/html, application/json"},
    )
    assert response.json() == {
        "data": {"customer": {"name": CUSTOMER.name}},
        "extensions": {
            "stores": {"used": ["MEMORY"], "degraded": False},
            "cost": {"requestedQueryCost": 1, "maximumQueryCost": 100_000},
        },
    }


@pytest.mark.parametrize(
    ("env", "page_status"),
    [
        ({"GRAPHQL_API_GRAPHIQL": "false"}, 404),
        # Production authenticates every request to the endpoint first: 401, no page.
        ({"GRAPHQL_API_ENV": "production", "GRAPHQL_API_STORES": "memory", **auth_env()}, 401),
    ],
    ids=["switched-off", "production-default"],
)
def test_graphiql_off_serves_neither_page_nor_assets(env: dict[str, str], page_status: int) -> None:
    with serve(env) as server, httpx.Client(base_url=server.base_url) as client:
        page = client.get("/graphql", headers={"Accept": BROWSER})
        asset = client.get("/graphql/assets/graphiql.js")
    assert page.status_code == page_status
    assert "<html" not in page.text
    assert asset.status_code == 404


def test_production_serves_graphiql_when_explicitly_enabled() -> None:
    env = {
        "GRAPHQL_API_ENV": "production",
        "GRAPHQL_API_GRAPHIQL": "true",
        # Production also needs authentication and an explicit store.
        "GRAPHQL_API_STORES": "memory",
        **auth_env(),
    }
    with serve(env) as server, httpx.Client(base_url=server.base_url) as client:
        page = client.get("/graphql", headers={"Accept": BROWSER})
    assert page.status_code == 200
    assert "content-security-policy" in page.headers


def test_unbuilt_graphiql_answers_503_naming_the_fix(tmp_path: Path) -> None:
    with (
        serve({"GRAPHQL_API_GRAPHIQL_DIR": str(tmp_path)}) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        page = client.get("/graphql", headers={"Accept": BROWSER})
    assert page.status_code == 503
    assert "make graphiql" in page.text


@dataclass
class Traffic:
    """What the page asked for: everything it requested, and what went elsewhere."""

    local_host: str
    requested: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    graphql_posts: list[dict[str, str]] = field(default_factory=list)

    def guard(self, route: Route) -> None:
        request = route.request
        self.requested.append(request.url)
        if urlsplit(request.url).hostname != self.local_host:
            self.blocked.append(request.url)
            route.abort("blockedbyclient")
            return
        if request.method == "POST" and "customer(" in (request.post_data or ""):
            self.graphql_posts.append(request.headers)
        route.continue_()


def chromium_path() -> str:
    path = shutil.which("chromium")
    assert path, "Debian's chromium package is missing: `make chromium` installs it"
    return path


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[BrowserContext]:
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",  # fresh user data dir for every run
            executable_path=chromium_path(),
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1400, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def test_request_guard_aborts_and_records_other_hosts(
    app: AppServer, browser: BrowserContext
) -> None:
    """The guard the GraphiQL test relies on does block: a foreign fetch is caught."""
    traffic = Traffic(local_host="127.0.0.1")
    browser.route("**/*", traffic.guard)
    page = browser.pages[0] if browser.pages else browser.new_page()
    page.goto(f"{app.base_url}/healthz")  # JSON, no CSP: only the guard stands in the way
    outcome = page.evaluate(
        "fetch('http://graphiql-guard-check.invalid/x').then(() => 'loaded', () => 'failed')"
    )
    assert outcome == "failed"
    assert traffic.blocked == ["http://graphiql-guard-check.invalid/x"]


def type_into_editor(page: Page, editor: str, text: str) -> None:
    """Click into a Monaco editor, clear it, and type as a person would."""
    page.locator(f"{editor} .monaco-editor .view-lines").click()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("Delete")
    page.keyboard.type(text)


@dataclass
class GraphiQLPage:
    """The page opened in the browser, and what it did: requests, sockets, errors."""

    page: Page
    traffic: Traffic
    # Each websocket's URL, and the frames the page sent over them.
    sockets: list[str] = field(default_factory=list)
    frames_sent: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def watch(self, socket: Any) -> None:
        self.sockets.append(socket.url)
        socket.on("framesent", lambda payload: self.frames_sent.append(str(payload)))

    def problems(self) -> list[str]:
        """CSP violations and uncaught errors: either would mean a broken page."""
        violations: list[str] = self.page.evaluate("window.__problems")
        return violations + self.page_errors


def open_graphiql(app: AppServer, browser: BrowserContext) -> GraphiQLPage:
    """GraphiQL loaded behind the request guard, its CSP checked, its editor ready."""
    traffic = Traffic(local_host="127.0.0.1")
    browser.route("**/*", traffic.guard)
    browser.add_init_script(
        "window.__problems = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__problems.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    opened = GraphiQLPage(browser.pages[0] if browser.pages else browser.new_page(), traffic)
    opened.page.on("pageerror", lambda error: opened.page_errors.append(str(error)))
    opened.page.on("websocket", opened.watch)
    response = opened.page.goto(f"{app.base_url}/graphql")
    assert response is not None
    assert response.status == 200
    directives = csp_directives(response.headers["content-security-policy"])
    assert directives["script-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    expect(opened.page.locator(".graphiql-query-editor .monaco-editor")).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )
    return opened


def test_graphiql_runs_a_query_in_a_real_browser_with_no_other_host(
    app: AppServer, browser: BrowserContext
) -> None:
    opened = open_graphiql(app, browser)
    page, traffic = opened.page, opened.traffic
    type_into_editor(
        page,
        ".graphiql-query-editor",
        f'{{ customer(id: "{CUSTOMER.id}") {{ name salesRep {{ fullName }} }} }}',
    )
    page.get_by_role("button", name="Headers").click()
    type_into_editor(
        page,
        ".graphiql-editor-tool .graphiql-editor:not(.hidden)",
        f'{{"Authorization": "{TOKEN}"}}',
    )
    page.get_by_role("button", name=re.compile(r"^Prettify query")).click()
    page.locator(".graphiql-execute-button").click()

    result = page.locator(".graphiql-response")
    expect(result).to_contain_text(CUSTOMER.name, timeout=UI_TIMEOUT_MS)
    expect(result).to_contain_text(f"{REP.first_name} {REP.last_name}")
    # The explorer plugin, built from the schema the page fetched from this server,
    # lists the root fields and has the typed query's fields ticked.
    page.get_by_role("button", name="Show GraphiQL Explorer").click()
    explorer = page.locator(".graphiql-plugin")
    expect(explorer.get_by_text("salesReps", exact=True)).to_be_visible(timeout=UI_TIMEOUT_MS)
    # A ticked field's circle carries a stroked check mark.
    ticked = explorer.locator("span[data-field-name]:has(> svg > path[stroke])")
    assert ticked.evaluate_all("spans => spans.map(s => s.dataset.fieldName)") == [
        "name",
        "fullName",
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "graphiql.png")

    assert [headers.get("authorization") for headers in traffic.graphql_posts] == [TOKEN]
    assert traffic.blocked == []
    assert opened.sockets == []
    # The guard saw the page's own files, workers included, so it was in the path.
    assert {urlsplit(url).path.rsplit("/", 1)[-1] for url in traffic.requested} >= set(ASSETS)
    assert opened.problems() == []


SUBSCRIBED = "C-00007"


def test_graphiql_runs_a_subscription_over_a_same_origin_websocket(
    app: AppServer, browser: BrowserContext, http: httpx.Client
) -> None:
    """The page subscribes over graphql-transport-ws to its own origin (the CSP's
    connect-src 'self' allows it, and nothing else), the Headers tab's entries
    travel in connection_init, and a change made elsewhere shows in the result."""
    opened = open_graphiql(app, browser)
    page = opened.page
    type_into_editor(
        page,
        ".graphiql-query-editor",
        f'subscription {{ customerEvents(customerId: "{SUBSCRIBED}") {{ __typename'
        " ... on CustomerFeedEvent { kind note } ... on CustomerFeedStatus { state } } }",
    )
    page.get_by_role("button", name="Headers").click()
    type_into_editor(
        page,
        ".graphiql-editor-tool .graphiql-editor:not(.hidden)",
        f'{{"Authorization": "{TOKEN}"}}',
    )
    page.locator(".graphiql-execute-button").click()
    result = page.locator(".graphiql-response")
    expect(result).to_contain_text("LIVE", timeout=UI_TIMEOUT_MS)
    change = (
        "mutation { assignCustomer(input: {customerId: %s, salesRepId: %s, note: %s})"
        " { __typename } }"
    )
    answer = http.post(
        "/graphql", json={"query": change % (f'"{SUBSCRIBED}"', '"SR-012"', '"seen-in-graphiql"')}
    )
    assert answer.json()["data"]["assignCustomer"]["__typename"] == "Customer"
    expect(result).to_contain_text("seen-in-graphiql", timeout=UI_TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "graphiql-subscription.png")

    assert opened.sockets == [f"{app.base_url.replace('http://', 'ws://')}/graphql"]
    init = next(json.loads(frame) for frame in opened.frames_sent if "connection_init" in frame)
    assert init["payload"]["Authorization"] == TOKEN
    assert opened.traffic.blocked == []
    assert opened.problems() == []
