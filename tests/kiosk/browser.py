"""Helpers for the kiosk browser tests: opening the kiosk, counted taps, and what is measured on a screen."""

from __future__ import annotations

from datetime import UTC, datetime

from playwright.sync_api import Page, expect

from tests.browser_support import screenshot_path
from tests.factories import PASSWORD

VIEWPORTS = {"1280x800": (1280, 800), "1920x1080": (1920, 1080), "800x1280": (800, 1280)}


class Taps:
    """Counts every tap the test makes, so the tap budget is measured, not assumed."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.count = 0

    def __call__(self, selector: str) -> None:
        self.page.locator(selector).first.tap()
        self.count += 1


def open_kiosk(page: Page, live_server, setup, query: str = "") -> None:  # type: ignore[no-untyped-def]
    if setup.token:
        page.add_init_script(f"localStorage.setItem('sipas-kiosk:{setup.unit_code}:token', '{setup.token}')")
    page.goto(f"{live_server.url}/kiosk/{setup.unit_code}{query}")


def type_on_keypad(page: Page, taps: Taps, code: str) -> None:
    for ch in code:
        if ch.isalpha():
            taps("#key-letters")
        taps(f'#keypad [data-key="{ch}"]')


def answer_all(page: Page, taps: Taps, total: int, pick: str = ".rf-option--good") -> None:
    """Answer every question. The taps and their order are the citizen's; the waits are not (see skip_tap_waits)."""
    for number in range(1, total + 1):
        expect(page.get_by_test_id("progress")).to_have_text(f"{number}/{total}")
        taps(pick)
        skip_tap_waits(page)


def skip_tap_waits(page: Page) -> None:
    """Run the page's timers past the flow's waits after a pick: 180 ms before the next question, then the tap
    guard that keeps its buttons disabled (450 ms). Twelve questions waited out take eight seconds of a test.
    The page's clock (Playwright's, installed on first use) then reads the real time again: the kiosk's
    heartbeat reports its clock to the server, which must not see it run ahead."""
    page.clock.run_for(700)
    page.clock.set_system_time(datetime.now(UTC))


# Records every media element the page plays, so a test can tell whether the sound had a source to play.
RECORD_PLAYBACK = """window.__played = [];
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { window.__played.push(this); return play.call(this); };"""
LAST_SOUND = """() => { const a = window.__played.at(-1);
  return a ? { ready: a.readyState, error: a.error ? a.error.code : null, src: a.currentSrc } : null; }"""


def last_sound_playable(page: Page) -> dict[str, object]:
    """The last sound the page played had its data (readyState ≥ HAVE_FUTURE_DATA) and no error."""
    page.wait_for_function(f"() => (({LAST_SOUND})() || {{}}).ready >= 3 || (({LAST_SOUND})() || {{}}).error")
    sound = page.evaluate(LAST_SOUND)
    assert sound["error"] is None and sound["ready"] >= 3, sound
    return sound


def login_console(page: Page, live_server, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/console/login")
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def queue_length(page: Page, unit_code: str, name: str = "queue") -> int:
    return int(page.evaluate(f"JSON.parse(localStorage.getItem('sipas-kiosk:{unit_code}:{name}') || '[]').length"))


SMALL_TARGETS = """() => [...document.querySelectorAll('button')].filter(b => b.offsetParent !== null)
  .map(b => { const r = b.getBoundingClientRect(); return [b.textContent.trim(), r.width, r.height]; })
  .filter(([, w, h]) => w < 56 || h < 56)"""
SMALL_TEXT = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.offsetParent !== null && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
  .map(e => [e.textContent.trim().slice(0, 30), parseFloat(getComputedStyle(e).fontSize)])
  .filter(([, px]) => px < 24)"""
# Text colour against the background actually behind it (ancestors' backgrounds composited, alpha included),
# for every visible enabled element holding text. Disabled controls are exempt (WCAG 1.4.3).
CONTRAST = """() => {
  const parse = (c) => {
    const v = c.match(/[\\d.]+/g).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const background = (e) => {
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reduceRight((acc, layer) => over(layer, acc), [255, 255, 255, 1]);
  };
  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  return [...document.querySelectorAll('body *')]
    .filter(e => e.offsetParent !== null && !e.closest('button:disabled')
      && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(e => { const bg = background(e); const fg = over(parse(getComputedStyle(e).color), bg);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      return [e.textContent.trim().slice(0, 30), Math.round((a + 0.05) / (b + 0.05) * 100) / 100]; });
}"""
# Every visible button fully inside the viewport and not clipped by a scrolling or clipping ancestor,
# and no screen that needs scrolling: what "fits without scrolling" means for a touch kiosk.
OUT_OF_VIEW = """(scope) => {
  const root = document.querySelector(scope) || document.body;
  const out = [];
  for (const b of root.querySelectorAll('button')) {
    if (b.offsetParent === null) continue;
    const r = b.getBoundingClientRect();
    let box = { top: 0, left: 0, bottom: innerHeight, right: innerWidth };
    for (let n = b.parentElement; n && n !== document.documentElement; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const c = n.getBoundingClientRect();
      box = { top: Math.max(box.top, c.top), left: Math.max(box.left, c.left),
              bottom: Math.min(box.bottom, c.bottom), right: Math.min(box.right, c.right) };
    }
    if (r.top < box.top - 0.5 || r.left < box.left - 0.5 || r.bottom > box.bottom + 0.5 || r.right > box.right + 0.5) {
      const name = b.textContent.trim().slice(0, 24) || b.getAttribute('aria-label');
      out.push([name, Math.round(r.bottom), Math.round(r.right)]);
    }
  }
  for (const n of [document.scrollingElement, ...document.querySelectorAll('.k-screen, .rf-screen, .rf-summary')]) {
    if (n.offsetParent === null && n !== document.scrollingElement) continue;
    if (n.scrollHeight > n.clientHeight + 1 || n.scrollWidth > n.clientWidth + 1) {
      out.push(['scrolls: ' + (n.className || n.nodeName), n.scrollHeight, n.clientHeight]);
    }
  }
  return out;
}"""


def assert_accessible(page: Page) -> None:
    """Touch targets at least 56×56 CSS px, text at least 24 px, all visible text at WCAG AA contrast (≥ 4.5:1)."""
    assert page.evaluate(SMALL_TARGETS) == []
    assert page.evaluate(SMALL_TEXT) == []
    ratios = page.evaluate(CONTRAST)
    assert ratios and [(text, ratio) for text, ratio in ratios if ratio < 4.5] == []


def out_of_view(page: Page, scope: str = "body") -> list[list[object]]:
    return page.evaluate(OUT_OF_VIEW, scope)


def shot(page: Page, name: str) -> None:
    """Screenshots for docs/kiosk.md (see ``screenshot_path``)."""
    assert page.screenshot(path=screenshot_path(f"kiosk-{name}.png"))
