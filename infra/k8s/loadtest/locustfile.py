"""The product's traffic model for Locust: the product funnel plus a read-heavy API client.

Run it as its own process (Locust monkey-patches the interpreter), loopback only, for example
    .venv/bin/locust -f loadtests/locustfile.py --headless -u 20 -r 10 --run-time 60s \
        --host http://127.0.0.1:18000
The harness (`python -m loadtests.harness`) starts it exactly like that, once per scenario.

Weights follow a small SaaS: most requests come from people already signed in who read their
projects; a minority walk the funnel (sign up, create a project, add and complete tasks, now and
then upgrade). Request names are route templates (`/api/projects/[id]`) so Locust's statistics
line up with the backend's `route` label.

`LOADTEST_FRONTEND_URL` (optional): page views also go to the Next.js app, so its metrics fill.
`LOADTEST_ACCOUNTS_FILE` (optional): JSON list of `{"email", "token"}` of existing customers; the
read-heavy users take their sessions from it instead of signing up (the harness creates them once,
one at a time, so each scenario's start is not a burst of argon2 sign-ups).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from typing import Any

from locust import FastHttpUser, between, task

PASSWORD = "loadtest-password-1"
EMAIL_DOMAIN = "loadtest.example.test"
FRONTEND_URL = os.environ.get("LOADTEST_FRONTEND_URL", "").rstrip("/")
ACCOUNTS: list[dict] = (json.loads(open(os.environ["LOADTEST_ACCOUNTS_FILE"]).read())  # noqa: SIM115
                        if os.environ.get("LOADTEST_ACCOUNTS_FILE") else [])
_next_account = itertools.count()
PAGES = ("/", "/signup", "/login", "/dashboard", "/projects/[id]", "/pricing")
FUNNEL_PAGES = frozenset({"/", "/pricing", "/signup"})  # backend/app/rum/bounds.py FUNNEL_PAGES
# Realistic web-vital values in web-vitals' units (ms; CLS unitless), mostly "good".
VITALS = {"LCP": (600, 2200), "FCP": (300, 1500), "TTFB": (50, 600), "INP": (20, 250), "CLS": (0.0, 0.08)}


def _json(resp: Any) -> dict | None:
    """Body as a dict, or None (connection errors and non-JSON bodies during faults)."""
    try:
        body = resp.json()
    except Exception:  # noqa: BLE001 - any decoding problem just means "no usable body"
        return None
    return body if isinstance(body, dict) else None


class ProductUser(FastHttpUser):
    """Shared session handling: sign up once, re-authenticate when the session is gone."""

    abstract = True

    token: str | None = None
    email: str = ""
    plan: str = "free"

    def on_start(self) -> None:
        self.projects: list[str] = []
        self.open_tasks: list[str] = []
        self.email = f"lt-{uuid.uuid4().hex[:16]}@{EMAIL_DOMAIN}"
        self.signup()

    # --- auth ------------------------------------------------------------------------------
    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def signup(self) -> None:
        with self.client.post("/api/auth/signup", json={"email": self.email, "password": PASSWORD,
                                                         "name": "Load Test"},
                              name="/api/auth/signup", catch_response=True) as resp:
            body = _json(resp)
            if resp.status_code == 201 and body:
                self.token = body["token"]
                resp.success()
            elif resp.status_code == 409:  # signed up before a fault cut the response: log in instead
                resp.success()
                self.login()
            else:
                resp.failure(f"signup {resp.status_code}")

    def login(self) -> None:
        with self.client.post("/api/auth/login", json={"email": self.email, "password": PASSWORD},
                              name="/api/auth/login", catch_response=True) as resp:
            body = _json(resp)
            if resp.status_code == 200 and body:
                self.token = body["token"]
                self.plan = body.get("user", {}).get("plan", self.plan)
                resp.success()
            else:
                resp.failure(f"login {resp.status_code}")

    def ensure_session(self) -> bool:
        if not self.token:
            self.signup()
        return self.token is not None

    def check(self, resp: Any, ok: tuple[int, ...]) -> dict | None:
        """Mark the response, re-authenticate on 401; returns the JSON body on success."""
        if resp.status_code in ok:
            resp.success()
            return _json(resp)
        if resp.status_code == 401:
            resp.success()  # an expired session is normal: log in again
            self.token = None
            self.login()
            return None
        resp.failure(f"HTTP {resp.status_code}")
        return None

    # --- reads shared by both users ---------------------------------------------------------
    def list_projects(self) -> None:
        with self.client.get("/api/projects?limit=20&offset=0", headers=self.auth, name="/api/projects",
                             catch_response=True) as resp:
            body = self.check(resp, (200,))
            if body and not self.projects:
                self.projects = [p["id"] for p in body.get("items", [])]

    def get_project(self) -> None:
        if not self.projects:
            return
        pid = random.choice(self.projects)
        with self.client.get(f"/api/projects/{pid}", headers=self.auth, name="/api/projects/[id]",
                             catch_response=True) as resp:
            if resp.status_code == 404:  # deleted meanwhile
                resp.success()
                self.projects.remove(pid)
                return
            self.check(resp, (200,))

    def list_tasks(self) -> None:
        if not self.projects:
            return
        pid = random.choice(self.projects)
        with self.client.get(f"/api/projects/{pid}/tasks?limit=20", headers=self.auth,
                             name="/api/projects/[id]/tasks", catch_response=True) as resp:
            body = self.check(resp, (200, 404))
            if body:
                self.open_tasks = [t["id"] for t in body.get("items", []) if not t.get("done")][:20]

    def create_project(self) -> None:
        with self.client.post("/api/projects", json={"name": f"Project {random.randint(1, 9999)}",
                                                     "description": "created by the load test"},
                              headers=self.auth, name="/api/projects", catch_response=True) as resp:
            body = self.check(resp, (201,))
            if body and "id" in body:
                self.projects.append(body["id"])

    def create_task(self) -> None:
        if not self.projects:
            return
        pid = random.choice(self.projects)
        with self.client.post(f"/api/projects/{pid}/tasks", json={"title": f"Task {random.randint(1, 99999)}"},
                              headers=self.auth, name="/api/projects/[id]/tasks", catch_response=True) as resp:
            body = self.check(resp, (201, 404))
            if body and "id" in body:
                self.open_tasks.append(body["id"])

    def complete_task(self) -> None:
        if not self.open_tasks:
            return
        tid = self.open_tasks.pop(random.randrange(len(self.open_tasks)))
        with self.client.post(f"/api/tasks/{tid}/complete", headers=self.auth, name="/api/tasks/[id]/complete",
                              catch_response=True) as resp:
            self.check(resp, (200, 404))

    def page_view(self, page: str) -> None:
        """What a browser does on a page: the page itself (when the frontend runs), vitals, a view event."""
        if FRONTEND_URL:
            path = page.replace("[id]", self.projects[0] if self.projects else "0")
            with self.client.get(FRONTEND_URL + path, name=f"web {page}", catch_response=True) as resp:
                # the app redirects signed-out visitors; any non-5xx answer is a served page
                if resp.status_code and resp.status_code < 500:
                    resp.success()
                else:
                    resp.failure(f"HTTP {resp.status_code}")
        if page in FUNNEL_PAGES:  # the anonymous page-view beacon (frontend/lib/rum/pageViews.ts)
            with self.client.post("/api/rum/pageviews", json={"page": page}, name="/api/rum/pageviews",
                                  catch_response=True) as resp:
                self.check(resp, (204,))
        for name in random.sample(sorted(VITALS), 3):
            low, high = VITALS[name]
            with self.client.post("/api/rum/vitals", json={"name": name, "value": round(random.uniform(low, high), 3),
                                                           "page": page, "id": uuid.uuid4().hex[:12]},
                                  name="/api/rum/vitals", catch_response=True) as resp:
                self.check(resp, (204,))
        with self.client.post("/api/events", json={"event": "page_viewed", "page": page}, headers=self.auth,
                              name="/api/events", catch_response=True) as resp:
            self.check(resp, (202,))


class FunnelUser(ProductUser):
    """A person new to the product: signs up, builds a project, works through tasks, may upgrade."""

    weight = 1
    wait_time = between(0.5, 2.0)

    @task(2)
    def browse(self) -> None:
        self.page_view(random.choice(PAGES))

    @task(4)
    def dashboard(self) -> None:
        if self.ensure_session():
            self.list_projects()

    @task(2)
    def new_project(self) -> None:
        if self.ensure_session() and len(self.projects) < 5:
            self.create_project()

    @task(5)
    def open_project(self) -> None:
        if self.ensure_session():
            self.get_project()
            self.list_tasks()

    @task(4)
    def add_task(self) -> None:
        if self.ensure_session():
            self.create_task()

    @task(3)
    def finish_task(self) -> None:
        if self.ensure_session():
            self.complete_task()

    @task(1)
    def upgrade(self) -> None:
        """The pricing page and, for a free user, the upgrade (retried later when the provider fails)."""
        if not self.ensure_session() or self.plan == "pro":
            return
        self.page_view("/pricing")
        with self.client.post("/api/events", json={"event": "upgrade_clicked", "page": "/pricing"},
                              headers=self.auth, name="/api/events", catch_response=True) as resp:
            self.check(resp, (202,))
        with self.client.get("/api/billing/plan", headers=self.auth, name="/api/billing/plan",
                             catch_response=True) as resp:
            body = self.check(resp, (200,))
            if body:
                self.plan = body.get("plan", self.plan)
        if self.plan == "pro":
            return
        with self.client.post("/api/billing/upgrade", json={"plan": "pro"}, headers=self.auth,
                              name="/api/billing/upgrade", catch_response=True) as resp:
            if resp.status_code == 409:
                resp.success()
                self.plan = "pro"
                return
            body = self.check(resp, (200,))
            if body:
                self.plan = body.get("plan", "pro")

    @task(1)
    def sign_out_and_back_in(self) -> None:
        """Rare: log out and in again (argon2 makes login deliberately expensive)."""
        if random.random() > 0.2 or not self.ensure_session():
            return
        with self.client.post("/api/auth/logout", headers=self.auth, name="/api/auth/logout",
                              catch_response=True) as resp:
            self.check(resp, (204,))
        self.token = None
        self.login()


class ReadHeavyUser(ProductUser):
    """An API integration or a busy dashboard: mostly cached project reads and lists."""

    weight = 3
    wait_time = between(0.2, 1.0)

    def on_start(self) -> None:
        self.projects, self.open_tasks = [], []
        if ACCOUNTS:  # an existing customer with a live session
            account = ACCOUNTS[next(_next_account) % len(ACCOUNTS)]
            self.email, self.token = account["email"], account["token"]
            self.list_projects()
            if self.projects:
                return
        else:
            super().on_start()
        for _ in range(3):
            if self.token:
                self.create_project()
        for pid in list(self.projects):
            for _ in range(2):
                with self.client.post(f"/api/projects/{pid}/tasks", json={"title": "seeded task"}, headers=self.auth,
                                      name="/api/projects/[id]/tasks", catch_response=True) as resp:
                    self.check(resp, (201, 404))

    @task(10)
    def read_project(self) -> None:
        if self.ensure_session():
            if not self.projects:
                self.list_projects()
            self.get_project()

    @task(4)
    def read_lists(self) -> None:
        if self.ensure_session():
            self.list_projects()

    @task(4)
    def read_tasks(self) -> None:
        if self.ensure_session():
            self.list_tasks()

    @task(2)
    def whoami(self) -> None:
        if self.ensure_session():
            with self.client.get("/api/me", headers=self.auth, name="/api/me", catch_response=True) as resp:
                self.check(resp, (200,))

    @task(1)
    def plan(self) -> None:
        if self.ensure_session():
            with self.client.get("/api/billing/plan", headers=self.auth, name="/api/billing/plan",
                                 catch_response=True) as resp:
                self.check(resp, (200,))


class CheckoutUser(ProductUser):
    """A visitor from a pricing campaign: signs up and goes straight for the upgrade.

    Not part of the default mix; the billing scenarios add it (two of them, `fixed_count`) so that
    the payment provider sees steady calls. After a failed upgrade it retries a few seconds later.
    """

    fixed_count = 2
    wait_time = between(3.0, 5.0)

    @task
    def upgrade(self) -> None:
        if not self.ensure_session():
            return
        if self.plan == "pro":  # done: a new visitor takes this one's place
            self.email = f"lt-{uuid.uuid4().hex[:16]}@{EMAIL_DOMAIN}"
            self.token, self.plan = None, "free"
            return
        with self.client.post("/api/billing/upgrade", json={"plan": "pro"}, headers=self.auth,
                              name="/api/billing/upgrade", catch_response=True) as resp:
            if resp.status_code == 409:
                resp.success()
                self.plan = "pro"
                return
            body = self.check(resp, (200,))
            if body:
                self.plan = body.get("plan", "pro")
