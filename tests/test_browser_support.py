"""The browser harness itself: Debian Chromium reaches the live server and nothing else."""

import pytest


@pytest.mark.browser
def test_chromium_loads_the_login_page_from_the_live_server(live_server, page):
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/console/login")
    assert page.locator("h1").inner_text() == "Đăng nhập"
    assert requests and all(url.startswith(live_server.url) for url in requests)


def test_live_server_stops_and_starts_on_the_same_port(live_server):
    import urllib.error
    import urllib.request

    assert urllib.request.urlopen(f"{live_server.url}/healthz").status == 200
    live_server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{live_server.url}/healthz", timeout=2)
    live_server.start()
    assert urllib.request.urlopen(f"{live_server.url}/healthz").status == 200
