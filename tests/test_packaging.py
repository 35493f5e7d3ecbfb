"""The wheel is what admins install: it builds without a packaging warning, and once installed into a
fresh virtualenv (no checkout on the path) it migrates, configures, serves SCIM and signs in.

Package discovery (setup.py) and the per-package data files (setup.cfg) are only proven by an
installed copy: an editable install reads templates, migrations and the development IdP's files
from the checkout and would hide a file the wheel forgot.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What a source distribution holds: the wheel is built from a copy of these alone, so a stale
# build/ folder in the checkout can neither leak old modules into it nor hide a forgotten file.
SOURCES = ("setup.py", "setup.cfg", "pyproject.toml", "README.md", "scimgate", "config", "plugins")
PASSWORD = "correct-horse-battery-staple-42!"
# setuptools' own warnings: "Package 'x' is absent from the `packages` configuration", deprecations.
PACKAGING_WARNING = re.compile(r"absent from|importable package|\w+Warning\b", re.IGNORECASE)

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, stdin: str = "") -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def _spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_served(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, server.communicate()[1]
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"gunicorn did not answer {url}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # the 302 itself is the answer


def _sign_in(base: str, username: str) -> tuple[int, dict[str, object]]:
    """Sign in at /login with the page's CSRF token; (status of the post, /api/v1/session)."""
    cookies = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies), _NoRedirect)
    with browser.open(f"{base}/login") as page:
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode())
    assert token is not None
    form = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrf_token": token[1]})
    try:
        status = browser.open(f"{base}/login", data=form.encode()).status
    except urllib.error.HTTPError as answer:  # urllib reports the unfollowed 302 as an error
        status = answer.code
    with browser.open(f"{base}/api/v1/session") as session:
        return status, json.loads(session.read())


def test_the_wheel_installs_into_a_fresh_virtualenv_and_serves(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    built = _run(sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", wheels, source, cwd=tmp_path)
    warnings = [line for line in built.splitlines() if PACKAGING_WARNING.search(line)]
    assert warnings == []
    (wheel,) = wheels.glob("scimgate-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    bin_dir = venv / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "-q", wheel, cwd=tmp_path)

    site = tmp_path / "site"  # the development configuration keeps its database and key under ./site
    site.mkdir()
    scimgate = bin_dir / "scimgate"
    installed = _run(
        bin_dir / "python", "-c", "import scimgate.signin.dev_idp as d; print(d.DEV_DIR)", cwd=site
    ).strip()
    assert str(venv) in installed, installed  # the wheel's copy, not the checkout's
    port = _spare_port()
    base = f"http://127.0.0.1:{port}"
    metadata = (Path(installed) / "idp-metadata.xml").read_text(encoding="utf-8")
    (site / "idp.xml").write_text(metadata.replace("http://localhost:5000", base), encoding="utf-8")

    env = {key: value for key, value in os.environ.items() if not key.startswith("SCIMGATE_")}
    env.update(SCIMGATE_CONFIG="development", SCIMGATE_BASE_URL=base)
    assert "latest schema version" in _run(scimgate, "init-db", cwd=site, env=env)
    _run(scimgate, "saml", "configure", "--idp-metadata", "idp.xml", "--base-url", base, cwd=site, env=env)
    _run(scimgate, "saml", "enable", cwd=site, env=env)
    _run(scimgate, "scim", "set-client", "okta", cwd=site, env=env)
    token = _run(scimgate, "scim", "generate-token", "--months", "1", cwd=site, env=env).splitlines()[-1]
    _run(scimgate, "scim", "enable", cwd=site, env=env)
    _run(scimgate, "admin", "create", "root", "--password-stdin", cwd=site, env=env, stdin=PASSWORD + "\n")

    server = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "1", "scimgate:create_app()"],
        cwd=site,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_until_served(f"{base}/readyz", server)
        user = json.dumps({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice"})
        request = urllib.request.Request(
            f"{base}/scim/v2/Users",
            data=user.encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"},
        )
        with urllib.request.urlopen(request) as created:
            assert created.status == 201
            assert json.loads(created.read())["userName"] == "alice"
        with urllib.request.urlopen(f"{base}/login") as page:  # templates and static ship
            assert "csrf_token" in page.read().decode()
        with urllib.request.urlopen(f"{base}/assets/scimgate.css") as css:
            assert css.status == 200
        status, session = _sign_in(base, "root")
        assert status == 302
        assert session["user"]["username"] == "root"  # type: ignore[index]
    finally:
        server.terminate()
        server.wait(timeout=30)
