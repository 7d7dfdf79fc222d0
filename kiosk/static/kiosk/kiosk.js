/**
 * kiosk.js — the counter kiosk: pairing, dossier code entry (keypad or scanner), the armed-dossier poll,
 * the rating flow (rating-flow.js) and the offline queue that resends until the server acknowledges.
 * Faces are inline and the read-aloud audio is held in memory, so an outage never shows the citizen
 * a broken screen; the page reloads itself at the start screen when the unit's instrument changes.
 */
import { IdleTimer, Speaker, TAP_GUARD_MS, mountRatingFlow, preloadAudio, readInstrument } from "./rating-flow.js";
import { RatingQueue, newKey } from "./queue.js";

const config = JSON.parse(document.getElementById("kiosk-config").textContent);
const instrument = readInstrument();
const T = config.timings;
const tokenKey = `sipas-kiosk:${config.unit}:token`;
const nameKey = `sipas-kiosk:${config.unit}:device-name`;
const queue = new RatingQueue(config.unit);
const $ = (selector) => document.querySelector(selector);
const screens = { pair: $("#pair-screen"), start: $("#start-screen"), pick: $("#pick-screen"),
  camera: $("#camera-screen"), flow: $("#flow-screen") };
/** Digits only, as many as a daily sequence has: the picker, not the full-code lookup (kiosk/picker.py). */
const SEQUENCE = /^\d{1,6}$/;
const OFFLINE_NOTE = "Máy chưa kết nối được với máy chủ. Đánh giá của ông/bà đã được lưu trên kiosk và sẽ tự động gửi khi có kết nối.";
const START_PROMPT = "Mời ông/bà nhập mã hồ sơ in trên giấy hẹn trả kết quả, hoặc đưa mã vạch vào máy quét.";
const speaker = new Speaker(true);
let current = "start";
let code = "";
let letters = false;
let idle = null;
let flushing = false;
let online = true;
/** Until when the server asked (503 + Retry-After) not to resend queued ratings. */
let serverBusyUntil = 0;
const loadedAt = Date.now();
const REFRESH_AFTER = 6 * 3600 * 1000;

const token = () => localStorage.getItem(tokenKey);
/** This pairing's device (the token's public part): each queued rating keeps the one that took it. */
const deviceId = () => (token() || "").split(".")[0] || null;

async function api(path, { method = "GET", body } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    const response = await fetch(`${config.api}/${path}`, {
      method, signal: controller.signal, cache: "no-store",
      headers: { "Content-Type": "application/json", "X-Kiosk-Token": token() || "" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    setOnline(response.status < 500);
    const retryAfter = Number(response.headers.get("Retry-After")) || 0;
    if (response.status === 503 && retryAfter > 0) serverBusyUntil = Date.now() + retryAfter * 1000;
    return { status: response.status, data, retryAfter };
  } catch {
    setOnline(false);
    return { status: 0, data: {}, retryAfter: 0 };
  } finally {
    clearTimeout(timer);
  }
}

function setOnline(value) {
  online = value;
  renderStatus();
}

function renderStatus() {
  const waiting = queue.size;
  const status = $("#net-status");
  status.classList.toggle("k-offline", !online);
  status.textContent = online ? (waiting ? `Đang gửi ${waiting} phiếu` : "Đã kết nối")
    : `Mất kết nối${waiting ? ` · ${waiting} phiếu chờ gửi` : ""}`;
}

function show(name) {
  current = name;
  for (const [key, node] of Object.entries(screens)) node.hidden = key !== name;
}

/** The device name ("Quầy 1") stays in the top bar across reloads and outages; the server's answers refresh it. */
function showDeviceName(name) {
  if (name) {
    try { localStorage.setItem(nameKey, name); } catch { /* storage off: shown until the next reload */ }
  }
  $("#device-name").textContent = name || localStorage.getItem(nameKey) || "";
}

function unpaired(data) {
  localStorage.removeItem(tokenKey);
  localStorage.removeItem(nameKey);
  showDeviceName("");
  showPairing(data?.error?.message);
}

/* ---------- pairing ---------- */
let pairingCode = "";
function showPairing(message = "") {
  idle?.stop();
  show("pair");
  pairingCode = "";
  $("#pair-code").textContent = "";
  $("#pair-message").textContent = message;
}

async function pair(value) {
  $("#pair-message").textContent = "Đang ghép nối…";
  const { status, data } = await api("pair", { method: "POST", body: { code: value } });
  if (status === 200 && data.token) {
    localStorage.setItem(tokenKey, data.token);
    showDeviceName(data.device.name);
    showStart();
    heartbeat();
    return;
  }
  pairingCode = "";
  $("#pair-code").textContent = "";
  $("#pair-message").textContent = status === 0 ? "Không kết nối được máy chủ." : data.error?.message || "Ghép nối không thành công.";
}

/* ---------- start: code entry ---------- */
function resetStart() {
  code = "";
  letters = false;
  setLarge(false);
  renderCode();
  renderKeypad();
  message("");
}

function setLarge(on) {
  document.documentElement.classList.toggle("rf-large", on);
  $("#text-size").setAttribute("aria-pressed", String(on));
}

function showStart() {
  if (!token()) { showPairing(); return; }
  stopCamera();
  idle?.stop();
  idle = null;
  resetStart();
  show("start");
  guardStart();
  preloadAudio();  // files an outage kept from arriving so far
  refreshIfStale();
}

/** Back to the start screen for the same citizen ("Không phải hồ sơ của tôi", "Quay lại", "Nhập lại"): the text
 *  size they chose stays, and the idle time undoes it for the next person. */
function backToStart() {
  const large = document.documentElement.classList.contains("rf-large");
  showStart();
  if (large && current === "start") { setLarge(true); touched(); }
}

/** The start screen comes back under the finger that left a rating or the picker ("Không phải hồ sơ của tôi",
 *  "Quay lại"): the second tap of a double tap must not type a key or start a rating there. */
let startGuard = null;
function guardStart() {
  clearTimeout(startGuard);
  screens.start.classList.add("k-guard");
  startGuard = setTimeout(() => screens.start.classList.remove("k-guard"), TAP_GUARD_MS);
}

/** The unit's kiosk instrument changed in the console: take it up before the next citizen starts. */
function followInstrument(data) {
  const wanted = data?.instrument;
  if (!wanted || (wanted.code === instrument.code && wanted.version === instrument.version)) return;
  // Not right after a load: a page and a poll that disagree must not reload in a loop.
  if (current === "start" && !code && Date.now() - loadedAt > 30000) window.location.reload();
}

/** A kiosk runs for weeks: reload now and then for a new instrument version or assets, only if the server answers. */
async function refreshIfStale() {
  if (Date.now() - loadedAt < REFRESH_AFTER) return;
  try {
    const response = await fetch(window.location.pathname + window.location.search, { cache: "no-store" });
    if (response.ok && current === "start" && !code) window.location.reload();
  } catch {
    /* offline: keep the page we have */
  }
}

function renderCode() {
  $("#code-display").textContent = code;
  $("#code-display").classList.toggle("k-empty", !code);
  $("#code-next").disabled = !code;
}

function message(text, kind = "error") {
  const node = $("#start-message");
  node.textContent = text;
  node.className = `k-message k-message--${kind}`;
}

/** Anything the citizen changed on the start screen (code, letters, text size) is undone after the idle time. */
function touched() {
  if (!idle && current === "start") {
    idle = new IdleTimer({ seconds: T.idle, countdown: T.countdown, onExpire: () => { idle = null; showStart(); } });
  }
}

function type(ch) {
  if (code.length >= 200) return;
  code += ch;
  renderCode();
  message("");
  touched();
}

function renderKeypad() {
  const keys = letters ? "ABCDEFGHIJKLMNOPQRSTUVWXYZ".split("") : ["1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "0", "-"];
  const pad = $("#keypad");
  pad.classList.toggle("k-letters", letters);
  pad.replaceChildren(...keys.map((ch) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "k-key";
    button.textContent = ch;
    button.dataset.key = ch;
    button.addEventListener("click", () => {
      type(ch);
      if (letters) { letters = false; renderKeypad(); }
    });
    return button;
  }));
  $("#key-letters").textContent = letters ? "123 Số" : "ABC Chữ";
}

/** A receipt's QR may hold a link to the dossier rather than the bare code: keep the code part. */
function extractCode(text) {
  const value = text.trim();
  if (/^[0-9A-Za-z.\-_]+$/.test(value)) return value;
  const parts = (value.match(/[0-9A-Za-z][0-9A-Za-z.\-_]{5,63}/g) || []).filter((p) => /\d/.test(p));
  return parts.length ? parts[parts.length - 1] : value;
}

let looking = false;  // a lookup in flight: a double tap on "Tiếp tục" must not start two rating flows

async function lookup() {
  if (looking) return;
  looking = true;
  try {
    await lookupOnce();
  } finally {
    looking = false;
  }
}

async function lookupOnce() {
  code = extractCode(code);
  renderCode();
  const value = code.trim();
  if (!value) return;
  if (SEQUENCE.test(value)) { await pickByDigits(value); return; }
  message("Đang tìm hồ sơ…", "info");
  const { status, data } = await api("lookup", { method: "POST", body: { code: value } });
  if (status === 200) { startRating({ code: data.code, procedure: data.procedure }); return; }
  if (status === 401 || status === 403) { unpaired(data); return; }
  if (status === 0 || status >= 500) {
    // Offline: the citizen still rates; the server checks the code when the queued rating arrives.
    startRating({ code: value, procedure: null });
    return;
  }
  // Already rated is good news, not a fault: said politely, never in the error colour.
  message(data.error?.message || "Không tìm thấy hồ sơ.", data.error?.code === "already_rated" ? "thanks" : "error");
  touched();
}

/* ---------- picker: the last digits of the code ---------- */
async function pickByDigits(digits) {
  message("Đang tìm hồ sơ…", "info");
  const { status, data } = await api("recent", { method: "POST", body: { digits } });
  if (status === 401 || status === 403) { unpaired(data); return; }
  if (status === 0 || status >= 500) {
    message("Máy chưa kết nối được máy chủ nên chưa tìm được theo số cuối. Vui lòng nhập đủ mã hồ sơ.");
    touched();
    return;
  }
  const matches = status === 200 ? data.matches || [] : [];
  if (status !== 200) { message(data.error?.message || "Không tìm thấy hồ sơ."); touched(); return; }
  if (!matches.length) {
    message(`Không có hồ sơ trả kết quả gần đây có số cuối ${digits}. Ông/bà có thể nhập đủ mã hồ sơ.`);
    touched();
    return;
  }
  // One match: its procedure is shown above question 1 with "Không phải hồ sơ của tôi", as after a full code.
  if (matches.length === 1) { startRating({ code: matches[0].code, procedure: matches[0].procedure }); return; }
  showPicker(digits, matches);
}

/** Several dossiers share the digits: each shows its procedure and return day only (a public screen). */
function showPicker(digits, matches) {
  show("pick");
  touchedPick();
  $("#pick-lead").textContent = `Có ${matches.length} hồ sơ trả kết quả gần đây có số cuối ${digits}. Mời chọn đúng thủ tục của ông/bà:`;
  $("#pick-list").replaceChildren(...matches.map((match) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "k-pick-item";
    button.dataset.testid = "pick-item";
    // At most two lines of the name on screen, so six long ones and "Nhập lại" fit; a screen reader reads it whole.
    const procedure = document.createElement("span");
    procedure.className = "k-pick-procedure";
    procedure.textContent = match.procedure;
    const day = document.createElement("span");
    day.className = "k-pick-day";
    day.textContent = `Trả kết quả ngày ${match.returned_on}`;
    button.append(procedure, day);
    button.addEventListener("click", () => startRating({ code: match.code, procedure: match.procedure }));
    return button;
  }));
}

function touchedPick() {
  idle?.stop();
  idle = new IdleTimer({ seconds: T.idle, countdown: T.countdown, onExpire: () => { idle = null; showStart(); } });
}

/* ---------- camera: the receipt's barcode or QR, where the device has a camera and the browser a detector ---------- */
let cameraStream = null;
let cameraTimer = null;

function cameraAvailable() {
  return "BarcodeDetector" in window && Boolean(navigator.mediaDevices?.getUserMedia);
}

async function scanWithCamera() {
  const video = $("#camera-video");
  try {
    cameraStream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  } catch {
    message("Không mở được máy ảnh. Vui lòng nhập mã hồ sơ trên bàn phím.");
    touched();  // the message is this citizen's: the idle time clears it for the next one
    return;
  }
  show("camera");
  touchedPick();
  video.srcObject = cameraStream;
  await video.play().catch(() => {});
  const detector = new window.BarcodeDetector({ formats: ["qr_code", "code_128", "code_39", "data_matrix"] });
  const tick = async () => {
    if (current !== "camera") return;
    try {
      const found = await detector.detect(video);
      if (found.length && found[0].rawValue) {
        stopCamera();
        show("start");
        code = extractCode(found[0].rawValue);
        renderCode();
        lookup();
        return;
      }
    } catch { /* a frame not ready yet */ }
    cameraTimer = setTimeout(tick, 250);
  };
  tick();
}

function stopCamera() {
  clearTimeout(cameraTimer);
  cameraStream?.getTracks().forEach((track) => track.stop());
  cameraStream = null;
  $("#camera-video").srcObject = null;
}

/* ---------- rating ---------- */
let ratingFlow = null;

function startRating(dossier) {
  speaker.stop();
  idle?.stop();
  idle = null;
  ratingFlow?.destroy();  // one flow at a time: an older one's idle timer would count down over the next citizen
  show("flow");
  const shown = dossier?.procedure ? `${dossier.procedure} (mã ${dossier.code})`
    : `mã ${dossier?.code} (máy chưa kết nối được máy chủ nên chưa hiện được tên thủ tục)`;
  const confirm = dossier ? {
    text: `Hồ sơ của ông/bà: ${shown}. Nếu đúng, mời chọn câu trả lời bên dưới.`,
    rejectLabel: "Không phải hồ sơ của tôi", onReject: backToStart,
  } : null;
  const key = newKey();  // one per citizen: every "Gửi" retry and every resend carries the same key
  const flow = mountRatingFlow(screens.flow, {
    layout: "kiosk", instrument, comment: true, audio: true, confirm,
    context: dossier ? `Hồ sơ: ${dossier.procedure || dossier.code}` : "Đánh giá không cần mã hồ sơ",
    idle: { seconds: T.idle, countdown: T.countdown }, thanksSeconds: T.thanks,
    submit: (payload) => submitRating(payload, dossier, key),
    onFinish: showStart, onBack: backToStart,
  });
  ratingFlow = flow;
  flow.start();
}

async function submitRating(payload, dossier, key) {
  // The queue outlives a re-pairing: a resend from the next device names the one whose key this is.
  const body = { ...payload, key, dossier_code: dossier ? dossier.code : null, device_id: deviceId() };
  const item = { key, next: 0, tries: 0, body };
  let saved = true;
  try {
    queue.add(item);  // stored before sending: a crash or an outage cannot lose it
  } catch {
    saved = false;  // storage full or disabled: only an acknowledged send may thank the citizen
  }
  renderStatus();
  const outcome = await send(item);
  if (!saved && outcome.result === "rejected") return { ok: false, message: outcome.message };
  if (!saved && !["stored", "replayed", "already"].includes(outcome.result)) {
    return { ok: false, message: "Kiosk chưa gửi được đánh giá. Vui lòng bấm “Gửi đánh giá” lại hoặc báo cán bộ một cửa." };
  }
  const notes = {
    stored: null,
    replayed: null,
    already: "Hồ sơ này đã được đánh giá trước đó; mỗi hồ sơ chỉ được đánh giá một lần.",
    offline: OFFLINE_NOTE,
  };
  const note = outcome.message || (outcome.result in notes ? notes[outcome.result] : OFFLINE_NOTE);
  return { ok: true, message: note };
}

/** Keys whose send is on its way: the resend loop leaves them alone (one request per rating at a time). */
const sending = new Set();

async function send(item) {
  sending.add(item.key);
  try {
    return await sendOnce(item);
  } finally {
    sending.delete(item.key);
  }
}

async function sendOnce(item) {
  const { status, data, retryAfter } = await api("submit", {
    method: "POST", body: { ...item.body, queued: Math.max(queue.size - 1, 0), rejected: queue.rejectedCount },
  });
  if (status === 200 || status === 201) {
    queue.remove(item.key);
    renderStatus();
    return { result: data.status === "replayed" ? "replayed" : "stored" };
  }
  if (status === 409) { queue.remove(item.key); renderStatus(); return { result: "already" }; }
  if (status === 429) {
    const wait = Number(data.error?.retry_after || 5);
    queue.update(item.key, { next: Date.now() + wait * 1000, tries: item.tries + 1 });
    return { result: "too_fast", message: data.error?.message };
  }
  if (status === 401 || status === 403) {
    return { result: "unpaired", message: "Đánh giá đã được lưu trên kiosk. Kiosk cần được ghép nối lại để gửi." };
  }
  if (status >= 400 && status < 500) {
    queue.reject(item, data.error?.code || String(status));
    renderStatus();
    heartbeat();  // the console shows the refused rating now, not at the next heartbeat
    return { result: "rejected", message: data.error?.message || "Máy chủ không nhận đánh giá này." };
  }
  // Server away or its database unavailable: back off, never sooner than the server's Retry-After.
  const backoff = Math.max(Math.min(30000, 2000 * 2 ** Math.min(item.tries, 4)), retryAfter * 1000);
  queue.update(item.key, { next: Date.now() + backoff, tries: item.tries + 1 });
  return { result: "offline" };
}

async function flush() {
  if (flushing || !token() || Date.now() < serverBusyUntil) return;
  flushing = true;
  try {
    for (const item of queue.items()) {
      if (item.next > Date.now() || sending.has(item.key)) continue;
      const outcome = await send(item);
      if (outcome.result === "offline" || outcome.result === "unpaired") break;
    }
  } finally {
    flushing = false;
    renderStatus();
  }
}

async function heartbeat() {
  if (!token()) return;
  const { status, data } = await api("heartbeat", {
    method: "POST", body: { queued: queue.size, rejected: queue.rejectedCount, client_time: new Date().toISOString() },
  });
  if ((status === 401 || status === 403) && current === "start") unpaired(data);
  if (status === 200) { showDeviceName(data.device?.name); followInstrument(data); }
}

async function pollArmed() {
  if (!token() || current !== "start" || code) return;
  const { status, data } = await api("armed", { method: "POST", body: {} });
  if ((status === 401 || status === 403) && current === "start") { unpaired(data); return; }
  if (status !== 200) return;
  followInstrument(data);
  if (data.armed && current === "start" && !code) startRating(data.armed);
}

/* ---------- wiring ---------- */
function setup() {
  $("#key-letters").addEventListener("click", () => { letters = !letters; renderKeypad(); touched(); });
  $("#key-back").addEventListener("click", () => { code = code.slice(0, -1); renderCode(); touched(); });
  $("#key-clear").addEventListener("click", () => { code = ""; renderCode(); message(""); touched(); });
  $("#code-next").addEventListener("click", lookup);
  $("#anonymous")?.addEventListener("click", () => startRating(null));
  $("#pick-back").addEventListener("click", backToStart);
  $("#camera-back").addEventListener("click", backToStart);
  $("#camera-scan").hidden = !cameraAvailable();
  $("#camera-scan").addEventListener("click", scanWithCamera);
  $("#text-size").addEventListener("click", () => {
    setLarge(!document.documentElement.classList.contains("rf-large"));
    touched();
  });
  $("#start-listen").addEventListener("click", () => { speaker.say(START_PROMPT); touched(); });
  for (const button of document.querySelectorAll("#pair-keypad [data-digit]")) {
    button.addEventListener("click", () => {
      if (pairingCode.length < 8) pairingCode += button.dataset.digit;
      $("#pair-code").textContent = pairingCode;
      if (pairingCode.length === 8) pair(pairingCode);
    });
  }
  $("#pair-back").addEventListener("click", () => {
    pairingCode = pairingCode.slice(0, -1);
    $("#pair-code").textContent = pairingCode;
  });
  // A barcode/QR scanner is a keyboard: it types the code and presses Enter.
  document.addEventListener("keydown", (event) => {
    if (current !== "start" || event.ctrlKey || event.altKey || event.metaKey) return;
    if (event.key === "Enter") { event.preventDefault(); lookup(); return; }
    if (event.key === "Backspace") { code = code.slice(0, -1); renderCode(); touched(); return; }
    if (event.key.length === 1 && event.key !== " ") { event.preventDefault(); type(event.key); }
  });
  const match = /pair=(\d{8})/.exec(window.location.hash);
  if (match) {
    history.replaceState(null, "", window.location.pathname + window.location.search);
    showPairing();
    pair(match[1]);
  } else if (token()) {
    showDeviceName();
    showStart();
    heartbeat();
  } else {
    showPairing();
  }
  renderStatus();
  setInterval(flush, 3000);
  setInterval(heartbeat, T.heartbeat * 1000);
  setInterval(pollArmed, T.poll * 1000);
  window.addEventListener("online", flush);
  window.sipasKiosk = { queue, flush, config, audioReady: preloadAudio() };
}

setup();
