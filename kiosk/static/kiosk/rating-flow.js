/**
 * rating-flow.js — the citizen rating flow shared by the counter kiosk and the phone form (SMS/QR link).
 *
 * One criterion per screen, three large face buttons (+ "Không áp dụng" where allowed), progress "3/12",
 * back, an optional comment, a summary to confirm and a thank-you screen. Tapping an answer advances;
 * the buttons of a new question, comment or summary screen stay disabled for TAP_GUARD_MS (class .rf-guard),
 * so the second tap of a double tap cannot answer the next question or send the rating unseen.
 * Faces are inline SVG; audio is resolved relative to this file, or played from memory after preloadAudio().
 *
 *   import { mountRatingFlow, readInstrument, IdleTimer } from "/kiosk/static/kiosk/rating-flow.js";
 *   const flow = mountRatingFlow(document.getElementById("flow"), {
 *     layout: "kiosk" | "phone",        // CSS class rf--kiosk / rf--phone; the kiosk gets an on-screen keyboard
 *     instrument: readInstrument(),     // <script type="application/json" id="instrument"> (see docs/kiosk.md)
 *     submit,                           // async (payload) => ({ ok: true, message? }) | ({ ok: false, message })
 *                                       //   or a URL string: POST JSON, 2xx = ok, else body.error.message shown
 *     headers: {},                      // extra headers when submit is a URL (e.g. {"X-CSRFToken": token})
 *     context: "Đăng ký khai sinh",     // optional line shown above every question (procedure name)
 *     confirm: { text, rejectLabel, onReject },  // optional panel on question 1 asking to confirm the dossier
 *     comment: true,                    // comment screen (skippable)
 *     commentMaxLength: 500,            // characters the comment box takes (the phone form: its plain form's, 2000)
 *     audio: true,                      // read-aloud buttons playing audio/manifest.json entries
 *     idle: { seconds: 60, countdown: 15 } | false,   // reset on inactivity with a visible countdown
 *     thanksSeconds: 5,                 // 0 = stay on the thank-you screen
 *     onFinish: (reason) => {},         // "thanks" | "idle" | "cancel"; the caller shows its start screen
 *     onBack: () => {},                 // back pressed on question 1 (default: onFinish("cancel"))
 *     backOnFirst: true,                // false: no "Quay lại" on question 1 (the phone: nothing to go back to)
 *   });
 *   flow.start();   // render question 1
 *   flow.destroy(); // remove timers, listeners and every trace of the answers
 *   preloadAudio(); // the kiosk: keep every read-aloud file in memory (Blob URLs), so it plays offline
 *
 * submit payload: { instrument, instrument_version, answers: {criterion_code: option_code | "na"},
 *                   comment: string | null, submitted_at: ISO string }
 * Stable DOM: .rf .rf--kiosk|.rf--phone, [data-screen=question|comment|summary|thanks], .rf-progress,
 * .rf-question, .rf-legal (the legal wording under a plain citizen_label),
 * .rf-option.rf-option--good|--mid|--bad|--na (data-option=code), .rf-back, .rf-listen,
 * .rf-skip, .rf-next, .rf-comment-input, .rf-summary-item, .rf-confirm, .rf-thanks, .rf-countdown.
 */
import { mountViKeyboard } from "./vi-keyboard.js";

const HERE = new URL(".", import.meta.url);
// Screen prompts with pre-generated audio (kiosk/audio_build.py speaks exactly these strings).
export const PROMPTS = {
  comment: "Ông/bà có góp ý gì thêm không? (không bắt buộc)",
  summary: "Xin ông/bà xem lại và bấm “Gửi đánh giá”",
  thanks: "Cảm ơn ông/bà đã đánh giá!",
};
export const NOT_APPLICABLE = "na";
export const TAP_GUARD_MS = 450;
const SPEAKER = '<svg viewBox="0 0 64 64" aria-hidden="true" class="rf-icon"><path d="M8 24h12l16-13v42L20 40H8z" ' +
  'fill="currentColor"/><path d="M44 22c6 6 6 14 0 20M50 15c10 10 10 24 0 34" fill="none" stroke="currentColor" ' +
  'stroke-width="5" stroke-linecap="round"/></svg>';

// Drawn inline rather than loaded as files: a kiosk that lost the server still shows every face.
// Two positive levels smile (broad, gentle), the negative one frowns: the face tells the level without colour.
const MOUTHS = { good: "M17 37c4 10 26 10 30 0", mid: "M20 40c4 6 20 6 24 0", bad: "M17 47c4-10 26-10 30 0", na: "M20 32h24" };
const INK = 'fill="none" stroke="#1f1f1f" stroke-linecap="round"';

function faceIcon(tone, extraClass = "") {
  const eyes = tone === "na" ? "" : '<circle cx="22" cy="25" r="4.5" fill="#1f1f1f"/><circle cx="42" cy="25" r="4.5" fill="#1f1f1f"/>';
  const template = document.createElement("template");
  template.innerHTML = `<svg class="rf-face ${extraClass}" viewBox="0 0 64 64" aria-hidden="true" focusable="false">` +
    `<circle cx="32" cy="32" r="29" fill="#fff" stroke="#1f1f1f" stroke-width="4"/>${eyes}` +
    `<path d="${MOUTHS[tone]}" ${INK} stroke-width="${tone === "na" ? 6 : 5}"/></svg>`;
  return template.content.firstChild;
}

export function readInstrument(id = "instrument") {
  return JSON.parse(document.getElementById(id).textContent);
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "html") node.innerHTML = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/** good / mid / bad by points: the best option smiles, the worst frowns, whatever its wording. */
export function toneOf(criterion, option) {
  const points = criterion.options.map((o) => o.points);
  const max = Math.max(...points);
  const min = Math.min(...points);
  if (option.points === max) return "good";
  if (option.points === min) return "bad";
  return "mid";
}

/** Read-aloud: plays pre-generated files listed in audio/manifest.json, one after another. */
let manifestPromise = null;
const inMemory = new Map();  // audio file name → blob: URL of its bytes
function loadManifest() {
  manifestPromise ??= fetch(new URL("audio/manifest.json", HERE)).then((r) => {
    if (!r.ok) throw new Error(`manifest: ${r.status}`);
    return r.json();
  }).catch(() => { manifestPromise = null; return {}; });
  return manifestPromise;
}

/**
 * Fetch every read-aloud file once and keep it in memory, so the next citizens hear the questions even
 * while the server cannot be reached. Safe to call again: only files still missing are fetched.
 * Resolves to the number of files held.
 */
let preloading = null;
export function preloadAudio() {
  preloading ??= fetchAllAudio().finally(() => { preloading = null; });
  return preloading;
}

async function fetchAllAudio() {
  const manifest = await loadManifest();
  for (const name of new Set(Object.values(manifest))) {
    if (inMemory.has(name)) continue;
    try {
      const response = await fetch(new URL(`audio/${name}`, HERE));
      if (response.ok) inMemory.set(name, URL.createObjectURL(await response.blob()));
    } catch {
      break;  // the server went away: the next call goes on from here
    }
  }
  return inMemory.size;
}

export class Speaker {
  constructor(enabled) {
    this.enabled = enabled;
    this.current = null;
    this.queue = [];
    this.generation = 0;
    if (enabled) loadManifest();
  }
  async say(...texts) {
    this.stop();
    const generation = this.generation;
    const manifest = await loadManifest();
    if (generation !== this.generation) return;  // another button or a new screen since
    this.manifest = manifest;
    this.queue = texts.filter((t) => manifest[t]);
    this.next();
  }
  next() {
    const text = this.queue.shift();
    if (!text) return;
    const name = this.manifest[text];
    this.current = new Audio(inMemory.get(name) || new URL(`audio/${name}`, HERE).href);
    this.current.addEventListener("ended", () => this.next());
    this.current.play().catch(() => {});
  }
  stop() {
    this.generation += 1;
    this.queue = [];
    if (this.current) { this.current.pause(); this.current = null; }
  }
}

/**
 * Inactivity timer: after ``seconds - countdown`` without a touch it shows a countdown overlay
 * ("Màn hình sẽ trở về trang đầu sau 15 giây"); a touch cancels it, reaching zero calls onExpire.
 * A device that slept (screen off, suspended) kept its timers still while the wall clock went on: when the page
 * shows again, or at the next touch, a time already up by the wall clock expires at once rather than
 * showing the next person the previous one's screen.
 */
const WAKE_GRACE_MS = 1500;  // a timer a little late is not a device that slept
export class IdleTimer {
  constructor({ seconds = 60, countdown = 15, onExpire, host = document.body }) {
    this.seconds = seconds;
    this.countdown = Math.min(countdown, seconds);
    this.onExpire = onExpire;
    this.host = host;
    this.overlay = null;
    this.timer = null;
    this.ticker = null;
    this.activity = () => { if (!this.expiredAsleep()) this.reset(); };
    this.wake = () => { if (document.visibilityState !== "hidden") this.expiredAsleep(); };
    for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, this.activity, true);
    document.addEventListener("visibilitychange", this.wake);
    this.reset();
  }
  reset() {
    if (this.overlay) this.dismiss();
    clearTimeout(this.timer);
    this.deadline = Date.now() + this.seconds * 1000;
    this.timer = setTimeout(() => this.show(), (this.seconds - this.countdown) * 1000);
  }
  /** The wall clock says the time ran out while the device slept: expire now (true), else nothing (false). */
  expiredAsleep() {
    if (Date.now() < this.deadline + WAKE_GRACE_MS) return false;
    this.stop();
    this.onExpire();
    return true;
  }
  /** The countdown goes at the touch, but its overlay stays until the tap ends: the tap that answers
   *  "Tôi vẫn đang đánh giá" must not land on the answer button beneath. */
  dismiss() {
    clearInterval(this.ticker);
    const overlay = this.overlay;
    this.overlay = null;
    if (overlay.contains(document.activeElement) && this.focusBefore?.isConnected) this.focusBefore.focus();
    overlay.addEventListener("click", () => overlay.remove(), { once: true });
    setTimeout(() => overlay.remove(), 700);
  }
  show() {
    let left = this.countdown;
    const number = el("strong", { class: "rf-countdown-number", "data-testid": "countdown" }, String(left));
    const stay = el("button", { type: "button", class: "rf-button rf-primary" }, "Tôi vẫn đang đánh giá");
    // A named modal dialog holding the focus: a screen reader says what it is, a keyboard answers it.
    this.overlay = el("div", { class: "rf-countdown", role: "alertdialog", "aria-modal": "true",
      "aria-label": "Ông/bà còn đó không?", "aria-live": "assertive" },
      el("div", { class: "rf-countdown-box" },
        el("p", {}, "Ông/bà còn đó không? Màn hình sẽ trở về trang đầu sau"),
        number, el("p", {}, "giây"), stay));
    this.host.append(this.overlay);
    this.focusBefore = document.activeElement;
    stay.focus();
    this.ticker = setInterval(() => {
      left -= 1;
      number.textContent = String(Math.max(left, 0));
      if (left <= 0) { this.stop(); this.onExpire(); }
    }, 1000);
  }
  hide() {
    clearInterval(this.ticker);
    if (this.overlay) { this.overlay.remove(); this.overlay = null; }
  }
  stop() {
    this.hide();
    clearTimeout(this.timer);
    for (const type of ["pointerdown", "keydown"]) document.removeEventListener(type, this.activity, true);
    document.removeEventListener("visibilitychange", this.wake);
  }
}

async function submitToUrl(url, headers, payload) {
  try {
    const response = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json", ...headers }, body: JSON.stringify(payload),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) return { ok: true, message: body.message };
    return { ok: false, message: body.error?.message || "Không gửi được đánh giá. Vui lòng thử lại." };
  } catch {
    return { ok: false, message: "Không kết nối được máy chủ. Vui lòng thử lại." };
  }
}

export function mountRatingFlow(container, options) {
  const opts = { layout: "kiosk", comment: true, audio: true, idle: false, thanksSeconds: 5, headers: {},
    backOnFirst: true, commentMaxLength: 500, ...options };
  const criteria = opts.instrument.criteria;
  const naLabel = opts.instrument.na_label || "Không áp dụng";
  const speaker = new Speaker(opts.audio);
  const state = { index: 0, answers: {}, comment: "", editing: false, busy: false };
  const root = el("div", { class: `rf rf--${opts.layout}`, lang: "vi" });
  container.replaceChildren(root);
  let idle = null;
  let thanksTimer = null;
  let guardTimer = null;
  let finished = false;

  const finish = (reason) => {
    if (finished) return;
    finished = true;
    destroy();
    opts.onFinish?.(reason);
  };

  function screen(name, ...children) {
    speaker.stop();
    clearTimeout(guardTimer);
    const section = el("section", { class: `rf-screen rf-screen--${name}`, "data-screen": name }, ...children);
    root.replaceChildren(section);
    root.querySelector("h2")?.focus?.();
    return section;
  }

  /** A new screen's buttons sit where the last tap landed: the second tap of a double tap must not use them. */
  function guardTaps(section) {
    const buttons = [...section.querySelectorAll("button:not(:disabled)")];
    for (const button of buttons) button.disabled = true;
    section.classList.add("rf-guard");
    guardTimer = setTimeout(() => {
      section.classList.remove("rf-guard");
      for (const button of buttons) button.disabled = false;
    }, TAP_GUARD_MS);
  }

  function listenButton(label, texts, extraClass = "") {
    if (!opts.audio) return null;
    return el("button", { type: "button", class: `rf-listen ${extraClass}`, "aria-label": `Nghe: ${label}`,
      html: `${SPEAKER}<span>Nghe</span>`, onclick: (event) => { event.stopPropagation(); speaker.say(...texts); } });
  }

  function header({ context = true } = {}) {
    const total = criteria.length;
    return el("header", { class: "rf-header" },
      el("span", { class: "rf-progress", "data-testid": "progress", "aria-label": `Câu ${state.index + 1} trên ${total}` },
        `${state.index + 1}/${total}`),
      el("div", { class: "rf-bar", "aria-hidden": "true" },
        el("span", { style: `width:${Math.round(((state.index + 1) / total) * 100)}%` })),
      context && opts.context ? el("span", { class: "rf-context" }, opts.context) : null);
  }

  function answer(criterion, code, button) {
    if (state.busy) return;
    state.busy = true;
    state.answers[criterion.code] = code;
    button.classList.add("rf-option--chosen");
    setTimeout(() => {
      state.busy = false;
      if (finished) return;
      if (state.editing) { state.editing = false; showSummary(); return; }
      if (state.index + 1 < criteria.length) { state.index += 1; showQuestion(); } else if (opts.comment) {
        showComment();
      } else { showSummary(); }
    }, 180);
  }

  function optionButton(criterion, option, tone) {
    const chosen = state.answers[criterion.code] === option.code;
    const button = el("button", { type: "button", class: `rf-option rf-option--${tone}${chosen ? " rf-option--chosen" : ""}`,
      "data-option": option.code, "aria-pressed": chosen ? "true" : "false" },
      faceIcon(tone),
      el("span", { class: "rf-option-label" }, option.label));
    button.addEventListener("click", () => answer(criterion, option.code, button));
    return el("div", { class: "rf-option-cell" }, button, listenButton(option.label, [option.label], "rf-listen--option"));
  }

  /** The plain question when the criterion file gives one; the legal wording otherwise. */
  const asked = (criterion) => criterion.citizen_label || criterion.label;

  /** Under a plain question, the legal wording stays one tap away (reports and the notice use it). */
  function legalText(criterion) {
    if (!criterion.citizen_label) return null;
    return el("details", { class: "rf-legal", "data-testid": "legal-text" },
      el("summary", {}, "Nội dung theo quy định"), el("p", {}, criterion.label));
  }

  function showQuestion() {
    const criterion = criteria[state.index];
    const cells = criterion.options.map((o) => optionButton(criterion, o, toneOf(criterion, o)));
    const na = criterion.allow_na
      ? optionButton(criterion, { code: NOT_APPLICABLE, label: naLabel }, "na") : null;
    const confirm = state.index === 0 && opts.confirm && !state.answers[criterion.code]
      ? el("div", { class: "rf-confirm-panel", "data-testid": "confirm-panel" },
        el("p", { class: "rf-confirm-text" }, opts.confirm.text),
        el("button", { type: "button", class: "rf-button rf-reject", "data-testid": "reject-dossier",
          onclick: () => { destroy(); opts.confirm.onReject?.(); } }, opts.confirm.rejectLabel || "Không phải hồ sơ của tôi"))
      : null;
    guardTaps(screen("question", header({ context: !confirm }), confirm,
      el("div", { class: "rf-question-row" },
        el("div", { class: "rf-question-text" },
          el("h2", { class: "rf-question", tabindex: "-1", "data-criterion": criterion.code }, asked(criterion)),
          legalText(criterion)),
        listenButton(asked(criterion), [asked(criterion), ...criterion.options.map((o) => o.label),
          ...(criterion.allow_na ? [naLabel] : [])], "rf-listen--question")),
      el("div", { class: `rf-options rf-options--${criterion.options.length}` }, cells),
      na ? el("div", { class: "rf-na-row" }, na) : null,
      el("footer", { class: "rf-footer" },
        state.index > 0 || state.editing || opts.backOnFirst
          ? el("button", { type: "button", class: "rf-button rf-back", onclick: back }, "← Quay lại") : null)));
  }

  function back() {
    if (state.editing) { state.editing = false; showSummary(); return; }
    if (state.index === 0) {
      if (opts.onBack) { destroy(); opts.onBack(); } else finish("cancel");
      return;
    }
    state.index -= 1;
    showQuestion();
  }

  function showComment() {
    const input = el("textarea", { class: "rf-comment-input", rows: opts.layout === "kiosk" ? "2" : "3", maxlength: String(opts.commentMaxLength),
      "aria-label": "Ý kiến góp ý", placeholder: "Nhập ý kiến của ông/bà (không bắt buộc)", readonly: opts.layout === "kiosk" ? true : null });
    input.value = state.comment;
    input.addEventListener("input", () => { state.comment = input.value; });
    const keyboard = el("div", { class: "rf-keyboard-host" });
    const section = screen("comment",
      el("header", { class: "rf-header" }, el("span", { class: "rf-progress" }, "Góp ý")),
      el("div", { class: "rf-question-row" },
        el("h2", { class: "rf-question", tabindex: "-1" }, PROMPTS.comment),
        listenButton(PROMPTS.comment, [PROMPTS.comment], "rf-listen--question")),
      input, keyboard,
      el("footer", { class: "rf-footer" },
        el("button", { type: "button", class: "rf-button rf-back",
          onclick: () => { state.index = criteria.length - 1; showQuestion(); } }, "← Quay lại"),
        el("button", { type: "button", class: "rf-button rf-skip", "data-testid": "skip-comment",
          onclick: () => { state.comment = ""; showSummary(); } }, "Bỏ qua"),
        el("button", { type: "button", class: "rf-button rf-primary rf-next", onclick: showSummary }, "Tiếp tục →")));
    if (opts.layout === "kiosk") {
      mountViKeyboard(keyboard, { onChange: (text) => { state.comment = text; input.value = text; }, value: state.comment });
    }
    guardTaps(section);
  }

  function showSummary() {
    const items = criteria.map((criterion, index) => {
      const code = state.answers[criterion.code];
      const option = criterion.options.find((o) => o.code === code);
      const tone = option ? toneOf(criterion, option) : "na";
      return el("li", {},
        el("button", { type: "button", class: "rf-summary-item", "data-criterion": criterion.code,
          onclick: () => { state.index = index; state.editing = true; showQuestion(); } },
          el("span", { class: "rf-summary-number" }, `${index + 1}.`),
          // The kiosk fits twelve short lines on one screen; the phone scrolls, so it shows the whole question.
          el("span", { class: "rf-summary-label" }, opts.layout === "phone" ? asked(criterion) : criterion.short_label),
          el("span", { class: `rf-chip rf-chip--${tone}` }, option ? option.label : naLabel)));
    });
    const error = el("p", { class: "rf-error", role: "alert", "data-testid": "submit-error" });
    const send = el("button", { type: "button", class: "rf-button rf-primary rf-confirm", "data-testid": "confirm" },
      "Gửi đánh giá ✓");
    send.addEventListener("click", async () => {
      if (state.busy) return;
      state.busy = true;
      send.disabled = true;
      const payload = { instrument: opts.instrument.code, instrument_version: opts.instrument.version,
        answers: { ...state.answers }, comment: state.comment.trim() || null, submitted_at: new Date().toISOString() };
      let result;
      try {
        result = typeof opts.submit === "string"
          ? await submitToUrl(opts.submit, opts.headers, payload) : await opts.submit(payload);
      } catch {
        result = { ok: false, message: "Không gửi được đánh giá. Vui lòng thử lại." };
      }
      state.busy = false;
      if (finished) return;
      if (result.ok) { showThanks(result.message); return; }
      send.disabled = false;
      error.textContent = result.message || "Không gửi được đánh giá. Vui lòng thử lại.";
    });
    guardTaps(screen("summary",
      el("header", { class: "rf-header" }, el("span", { class: "rf-progress" }, "Xem lại"),
        el("span", { class: "rf-hint" }, "Chạm vào một dòng để sửa câu trả lời.")),
      el("div", { class: "rf-question-row" },
        el("h2", { class: "rf-question", tabindex: "-1" }, PROMPTS.summary),
        listenButton(PROMPTS.summary, [PROMPTS.summary], "rf-listen--question")),
      el("ol", { class: "rf-summary" }, items),
      state.comment.trim() ? el("p", { class: "rf-summary-comment" }, `Góp ý: ${state.comment.trim()}`) : null,
      el("footer", { class: "rf-footer" },
        el("button", { type: "button", class: "rf-button rf-back",
          onclick: () => { if (opts.comment) showComment(); else { state.index = criteria.length - 1; showQuestion(); } } },
        "← Quay lại"), error, send)));
  }

  function showThanks(message) {
    idle?.stop();
    idle = null;
    state.answers = {};
    state.comment = "";
    const seconds = opts.thanksSeconds;
    screen("thanks", el("div", { class: "rf-thanks", role: "status" },
      faceIcon("good", "rf-face--big"),
      el("h2", { tabindex: "-1" }, PROMPTS.thanks),
      listenButton(PROMPTS.thanks, [PROMPTS.thanks]),
      message ? el("p", { class: "rf-thanks-note", "data-testid": "thanks-note" }, message) : null,
      seconds ? el("p", { class: "rf-hint" }, `Màn hình sẽ trở về trang đầu sau ${seconds} giây.`) : null));
    if (seconds) thanksTimer = setTimeout(() => finish("thanks"), seconds * 1000);
  }

  function destroy() {
    finished = true;
    speaker.stop();
    idle?.stop();
    idle = null;
    clearTimeout(thanksTimer);
    clearTimeout(guardTimer);
    state.answers = {};
    state.comment = "";
    root.remove();
  }

  return {
    start() {
      if (opts.idle) idle = new IdleTimer({ ...opts.idle, onExpire: () => finish("idle") });
      showQuestion();
    },
    destroy,
    get answers() { return { ...state.answers }; },
  };
}
