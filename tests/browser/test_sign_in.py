"""Signing in and out of the admin console."""

import urllib.error
import urllib.parse
import urllib.request

from conftest import CHINESE


def test_a_wrong_password_is_refused_in_chinese_and_sets_no_session(console, server):
    landed = console.sign_in("user-admin", password="not-the-password")

    assert landed == "/admin/login"
    error = console.text("p.error")
    assert error and CHINESE.search(error), f"no Chinese error: {error!r}"
    assert console.driver.get_cookie("linli_session") is None
    # What the browser cannot show: the status, and that no session cookie was sent.
    status, cookies = server.post_login("user-admin", "not-the-password")
    assert status == 401
    assert not any(c.startswith("linli_session=") for c in cookies), cookies


def test_the_right_password_opens_the_board_with_a_strict_httponly_session(console, server):
    landed = console.sign_in("user-admin")

    assert landed == "/admin/board"
    console.find("table#board tbody#board-rows")
    cookie = console.driver.get_cookie("linli_session")
    assert cookie is not None, console.driver.get_cookies()
    assert cookie["httpOnly"] is True
    assert cookie.get("sameSite") == "Strict"
    # Script cannot read it.
    assert "linli_session" not in console.js("return document.cookie")
    status, cookies = server.post_login("user-admin", server.accounts["user-admin"].password)
    assert status in (302, 303), status
    assert any(c.startswith("linli_session=") for c in cookies), cookies


def test_signing_out_ends_the_session(signed_in):
    console = signed_in("user-admin")
    session = console.driver.get_cookie("linli_session")

    console.sign_out()

    assert console.path() == "/admin/login"
    console.open("/admin/board")
    assert console.path() == "/admin/login"
    # The old cookie is dead on the server too, not only gone from the browser.
    console.driver.delete_all_cookies()
    console.driver.add_cookie({"name": "linli_session", "value": session["value"], "path": "/"})
    console.open("/admin/board")
    assert console.path() == "/admin/login"
    assert not console.find_all("table#board")


def test_the_board_redirects_to_the_login_when_signed_out(console):
    console.driver.delete_all_cookies()

    console.open("/admin/board")

    assert console.path() == "/admin/login"
    console.find("form#login")


def test_every_signed_in_page_can_sign_out(signed_in):
    console = signed_in("user-admin")
    for path in ("/admin/board", "/admin/disputes", "/admin/report"):
        console.open(path)
        assert console.path() == path
        assert console.find_all("form#logout button[type=submit]"), f"no sign-out on {path}"


def test_the_rows_are_not_served_without_a_session(server):
    request = urllib.request.Request(server.url + "/admin/board/rows")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read().decode()
            final = urllib.parse.urlsplit(answer.url).path
    except urllib.error.HTTPError as e:
        assert e.code in (401, 403), e.code
        return
    # Followed to the login page, never the rows.
    assert final == "/admin/login", final
    assert 'class="incident' not in body


def test_an_open_board_whose_session_ended_goes_to_the_login(signed_in):
    console = signed_in("user-admin")
    console.board()
    console.driver.delete_cookie("linli_session")

    # At its next refresh (every 10 s) the board finds the session gone.
    console.wait(lambda d: console.path() == "/admin/login", timeout=15,
                 message="the board stayed on after its session ended")
    console.find("form#login")
    assert not console.find_all("#board-rows")
