"""The whole token flow over real HTTP (a threaded live server), as a front end sees it.

Browser: CSRF cookie, cookie login, an API call, refresh, logout. App: body login, Bearer
call, refresh rotation, reuse of a spent refresh token revoking the session.
"""

import httpx
import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def unauthorized(detail: str) -> dict:
    return {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail,
            "errors": {}}  # fmt: skip


@pytest.fixture
def person():
    return UserFactory(role="employee", email="flow@example.com", name="Flo W")


def test_browser_flow_with_cookies_and_csrf(live_server, person):
    with httpx.Client(base_url=live_server.url, timeout=10) as browser:
        csrf = browser.get("/api/v1/auth/csrf/").json()["csrf_token"]
        headers = {"X-CSRFToken": csrf, "Referer": live_server.url}
        body = {"email": "flow@example.com", "password": DEFAULT_PASSWORD}

        no_csrf = httpx.post(f"{live_server.url}/api/v1/auth/login/", json=body)
        assert no_csrf.status_code == 403
        assert no_csrf.json()["status"] == 403

        login = browser.post("/api/v1/auth/login/", json=body, headers=headers)
        assert login.status_code == 200
        assert set(login.json()) == {"user", "access_expires_at", "refresh_expires_at"}
        assert {"lb_access", "lb_refresh"} <= set(browser.cookies.keys())
        access_before = browser.cookies["lb_access"]

        me = browser.get("/api/v1/users/me/")
        assert me.status_code == 200
        assert me.json()["email"] == "flow@example.com"

        refreshed = browser.post("/api/v1/auth/refresh/", json={}, headers=headers)
        assert refreshed.status_code == 200
        assert browser.cookies["lb_access"] != access_before
        assert browser.get("/api/v1/users/me/").status_code == 200

        logout = browser.post("/api/v1/auth/logout/", headers=headers)
        assert logout.status_code == 204
        browser.cookies.clear()
        browser.cookies.set("lb_access", access_before)
        after = browser.get("/api/v1/users/me/")
        assert after.status_code == 401
        assert after.headers["WWW-Authenticate"].startswith("Bearer")


def test_app_flow_refresh_rotation_and_reuse_detection(live_server, person):
    with httpx.Client(base_url=live_server.url, timeout=10) as app:
        body = {"email": "flow@example.com", "password": DEFAULT_PASSWORD, "client": "app"}
        wrong = app.post("/api/v1/auth/login/", json={**body, "password": "not it"})
        unknown = app.post("/api/v1/auth/login/", json={**body, "email": "nobody@example.com"})
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json() == unknown.json()

        login = app.post("/api/v1/auth/login/", json=body)
        assert login.status_code == 200
        tokens = login.json()
        assert tokens["token_type"] == "Bearer"
        assert tokens["expires_in"] == 900
        assert "set-cookie" not in login.headers

        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert app.get("/api/v1/users/me/", headers=bearer).status_code == 200

        rotated = app.post("/api/v1/auth/refresh/", json={"refresh_token": tokens["refresh_token"]})
        assert rotated.status_code == 200
        new = rotated.json()
        assert new["refresh_token"] != tokens["refresh_token"]
        new_bearer = {"Authorization": f"Bearer {new['access_token']}"}
        assert app.get("/api/v1/users/me/", headers=new_bearer).status_code == 200

        reuse = app.post("/api/v1/auth/refresh/", json={"refresh_token": tokens["refresh_token"]})
        assert reuse.status_code == 401
        assert reuse.json() == unauthorized("The refresh token is invalid or has expired.")
        # Reuse of a spent token ends the whole session: the newest tokens are dead too.
        revoked = app.get("/api/v1/users/me/", headers=new_bearer)
        assert revoked.status_code == 401
        assert revoked.json() == unauthorized("The access token is invalid or has expired.")
        again = app.post("/api/v1/auth/refresh/", json={"refresh_token": new["refresh_token"]})
        assert again.status_code == 401

        second = app.post("/api/v1/auth/login/", json=body).json()
        second_bearer = {"Authorization": f"Bearer {second['access_token']}"}
        assert app.post("/api/v1/auth/logout/", headers=second_bearer).status_code == 204
        assert app.get("/api/v1/users/me/", headers=second_bearer).status_code == 401
