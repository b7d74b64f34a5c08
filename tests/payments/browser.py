"""A minimal browser for live-server tests: a requests session that follows our forms and CSRF."""

from __future__ import annotations

import html
import re
from urllib.parse import urljoin

import requests

_FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)
_ATTR = re.compile(r'(\w[\w-]*)="([^"]*)"')
_INPUT = re.compile(r"<input\b[^>]*>", re.I)


class Browser:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.trust_env = False

    def login_as(self, client, user) -> None:
        """Reuse a Django test client's log-in: copy its session cookie into this browser."""
        client.force_login(user)
        self.session.cookies.set("sessionid", client.cookies["sessionid"].value)

    def get(self, url: str, **kwargs) -> requests.Response:
        return self.session.get(urljoin(self.base_url, url), timeout=30, **kwargs)

    def post(self, url: str, data: dict | None = None, **kwargs) -> requests.Response:
        if "csrftoken" not in self.session.cookies:
            self.get("/")
        data = {"csrfmiddlewaretoken": self.session.cookies.get("csrftoken", ""), **(data or {})}
        return self.session.post(urljoin(self.base_url, url), data=data, timeout=30, **kwargs)

    def submit(
        self, page: requests.Response, action_contains: str, *, follow: bool = True, **fields
    ) -> requests.Response:
        """Submit the form of `page` whose action contains `action_contains`, with its hidden inputs."""
        for form in _FORM.findall(page.text):
            attrs = dict(_ATTR.findall(form[: form.index(">")]))
            action = html.unescape(attrs.get("action", ""))
            if action_contains not in action:
                continue
            data = {}
            for tag in _INPUT.findall(form):
                input_attrs = dict(_ATTR.findall(tag))
                if "name" in input_attrs and input_attrs.get("type", "text") in ("hidden", "text"):
                    data[input_attrs["name"]] = html.unescape(input_attrs.get("value", ""))
            data.update(fields)
            method = attrs.get("method", "get").lower()
            url = urljoin(page.url, action)
            if method == "post":
                return self.session.post(url, data=data, timeout=30, allow_redirects=follow)
            return self.session.get(url, params=data, timeout=30, allow_redirects=follow)
        raise AssertionError(f"no form with action containing {action_contains!r} on {page.url}")
