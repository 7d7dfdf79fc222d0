/**
 * vi-keyboard.js — an on-screen Vietnamese keyboard with a diacritic picker.
 *
 * Type the plain letters, then tap a mark: the tone (sắc, huyền, hỏi, ngã, nặng) goes on the right vowel
 * of the word just typed (hoa + sắc → hóa, tuong + móc + huyền → tường), tapping the same mark again
 * removes it. â/ê/ô (mũ), ơ/ư (móc), ă (trăng) and đ toggle on the last fitting letter of the word.
 *
 *   import { mountViKeyboard, applyMark } from "/kiosk/static/kiosk/vi-keyboard.js";
 *   mountViKeyboard(hostElement, { value: "", onChange: (text) => {}, maxLength: 500 });
 */

const TONES = { sac: "\u0301", huyen: "\u0300", hoi: "\u0309", nga: "\u0303", nang: "\u0323" };
const MODS = { mu: "\u0302", moc: "\u031B", trang: "\u0306" };
const TONE_CHARS = new Set(Object.values(TONES));
const VOWELS = new Set(["a", "e", "i", "o", "u", "y"]);

function splitLetters(word) {
  return [...word].map((ch) => {
    const parts = [...ch.normalize("NFD")];
    const base = parts[0];
    const marks = parts.slice(1);
    return { base, lower: base.toLowerCase(), mods: marks.filter((m) => !TONE_CHARS.has(m)),
      tone: marks.find((m) => TONE_CHARS.has(m)) || null };
  });
}

function joinLetters(letters) {
  return letters.map((l) => (l.base + l.mods.join("") + (l.tone || "")).normalize("NFC")).join("");
}

function vowelIndexes(letters) {
  const lower = letters.map((l) => (l.lower === "đ" ? "d" : l.lower)).join("");
  const indexes = [];
  letters.forEach((l, i) => {
    if (!VOWELS.has(l.lower)) return;
    if (i === 1 && lower.startsWith("qu")) return;
    if (i === 1 && lower.startsWith("gi") && letters.slice(2).some((x) => VOWELS.has(x.lower))) return;
    indexes.push(i);
  });
  if (!indexes.length) return [];
  const cluster = [indexes[indexes.length - 1]];
  for (let k = indexes.length - 2; k >= 0 && indexes[k] === cluster[0] - 1; k -= 1) cluster.unshift(indexes[k]);
  return cluster;
}

function toneTarget(letters) {
  const cluster = vowelIndexes(letters);
  if (!cluster.length) return -1;
  const modified = cluster.filter((i) => letters[i].mods.length);
  if (modified.length) return modified[modified.length - 1];
  if (cluster.length === 1) return cluster[0];
  const closed = cluster[cluster.length - 1] < letters.length - 1;
  if (closed) return cluster[cluster.length - 1];
  if (cluster.length === 3) return cluster[1];
  return cluster[0];
}

/** Apply a mark (sac|huyen|hoi|nga|nang|mu|moc|trang|dd) to the last word of ``text``. */
export function applyMark(text, mark) {
  const match = /(\p{L}+)$/u.exec(text);
  if (!match) return text;
  const head = text.slice(0, match.index);
  const letters = splitLetters(match[1]);
  if (mark === "dd") {
    const i = letters.map((l) => l.lower).lastIndexOf("d") >= 0
      ? letters.map((l) => l.lower).lastIndexOf("d") : letters.map((l) => l.lower).lastIndexOf("đ");
    if (i < 0) return text;
    const upper = letters[i].base === letters[i].base.toUpperCase();
    const next = letters[i].lower === "d" ? "đ" : "d";
    letters[i] = { ...letters[i], base: upper ? next.toUpperCase() : next, lower: next };
    return head + joinLetters(letters);
  }
  if (TONES[mark]) {
    const current = letters.findIndex((l) => l.tone);
    const old = current >= 0 ? letters[current].tone : null;
    letters.forEach((l) => { l.tone = null; });
    if (old === TONES[mark]) return head + joinLetters(letters);
    const target = toneTarget(letters);
    if (target < 0) return text;
    letters[target].tone = TONES[mark];
    return head + joinLetters(letters);
  }
  const mod = MODS[mark];
  const fits = { mu: ["a", "e", "o"], moc: ["o", "u"], trang: ["a"] }[mark];
  const candidates = letters.map((l, i) => (fits.includes(l.lower) ? i : -1)).filter((i) => i >= 0);
  if (!candidates.length) return text;
  let targets = [candidates[candidates.length - 1]];
  const lower = letters.map((l) => l.lower).join("");
  const uo = lower.lastIndexOf("uo");
  // "ươ" is always followed by a letter (người, thương, rượu); a final "uo" takes the horn on its o: thuở, huơ.
  if (mark === "moc" && uo >= 0 && uo + 2 < lower.length && !(uo === 1 && lower.startsWith("qu"))) targets = [uo, uo + 1];
  // "ưu" carries the horn on its first u: lưu, cứu, bưu, hữu, mưu, tựu (never "uư")
  const uu = lower.lastIndexOf("uu");
  if (mark === "moc" && targets.length === 1 && uu >= 0 && targets[0] === uu + 1) targets = [uu];
  const on = targets.every((i) => letters[i].mods.includes(mod));
  for (const i of targets) {
    letters[i].mods = on ? [] : [mod];
  }
  const tone = letters.find((l) => l.tone)?.tone;
  if (tone) {
    letters.forEach((l) => { l.tone = null; });
    letters[toneTarget(letters)].tone = tone;
  }
  return head + joinLetters(letters);
}

const ROWS = [
  ["1", "2", "3", "4", "5", "6", "7", "8", "9", "0"],
  ["q", "w", "e", "r", "t", "y", "u", "i", "o", "p"],
  ["a", "s", "d", "f", "g", "h", "j", "k", "l"],
  ["z", "x", "c", "v", "b", "n", "m", ",", "."],
];
const MARKS = [
  ["sac", "sắc ´", "dấu sắc"], ["huyen", "huyền `", "dấu huyền"], ["hoi", "hỏi ?", "dấu hỏi"],
  ["nga", "ngã ~", "dấu ngã"], ["nang", "nặng .", "dấu nặng"], ["mu", "â ê ô", "dấu mũ"], ["moc", "ơ ư", "dấu móc"],
  ["trang", "ă", "dấu trăng"], ["dd", "đ", "chữ đ"],
];

export function mountViKeyboard(host, { value = "", onChange = () => {}, maxLength = 500 } = {}) {
  let text = value;
  let upper = false;
  const keyboard = document.createElement("div");
  keyboard.className = "vk";
  keyboard.setAttribute("data-testid", "vi-keyboard");
  const update = (next) => {
    text = next.slice(0, maxLength);
    onChange(text);
  };
  const key = (label, action, extra = "", aria = null) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = `vk-key ${extra}`;
    button.textContent = label;
    if (aria) button.setAttribute("aria-label", aria);
    button.addEventListener("click", action);
    return button;
  };
  const letterKeys = [];
  for (const row of ROWS) {
    const line = document.createElement("div");
    line.className = "vk-row";
    for (const ch of row) {
      const button = key(ch, () => {
        update(text + (upper ? ch.toUpperCase() : ch));
        if (upper) setUpper(false);
      });
      if (/\p{L}/u.test(ch)) letterKeys.push([button, ch]);
      line.append(button);
    }
    keyboard.append(line);
  }
  const marks = document.createElement("div");
  marks.className = "vk-row vk-marks";
  for (const [mark, label, aria] of MARKS) {
    marks.append(key(label, () => update(applyMark(text, mark)), "vk-mark", aria));
  }
  keyboard.append(marks);
  const shift = key("⇧ Chữ hoa", () => setUpper(!upper), "vk-wide");
  function setUpper(on) {
    upper = on;
    shift.classList.toggle("vk-on", on);
    for (const [button, ch] of letterKeys) button.textContent = on ? ch.toUpperCase() : ch;
  }
  const bottom = document.createElement("div");
  bottom.className = "vk-row";
  bottom.append(shift,
    key("Dấu cách", () => update(`${text} `), "vk-space"),
    key("⌫ Xóa", () => update([...text].slice(0, -1).join("")), "vk-wide", "Xóa một ký tự"));
  keyboard.append(bottom);
  host.replaceChildren(keyboard);
  return { get value() { return text; }, set value(v) { text = v; } };
}
