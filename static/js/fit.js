// The margin beside a paragraph takes no more room than the paragraph's text, so the text flows
// without gaps whatever the margin holds. On a wide screen (the margin beside the text, not under
// it) the notes of a margin taller than its paragraph are made compact from the last up, each its
// first lines and "Open" (main.css, .note.is-compact), until it fits; if it still does not, the
// last are folded under "Show N more notes on ¶N". What the reader opens is shown whole, and kept
// so through live updates: a note ("Open"), a paragraph's whole list ("Show N more"), a note with
// a form open in it or the focus in its controls.
//
// Only paragraphs on or near the screen are fitted: those the browser lays out (content-visibility:
// auto), as it starts and stops laying them out, and again when they change size (a form opened,
// a thread toggled, the web font arriving, a live update). A page of two thousand notes costs no
// more than the few paragraphs in view.
import { onRefresh } from "./page.js";

const reading = document.querySelector(".reading");
const wide = matchMedia("screen and (width > 74rem)");

const parts = (row) => row.querySelectorAll(":scope > .para, :scope > .margin");
// The heights a paragraph's text and margin had when it was last fitted: the observer's first
// report, and those of what a fit itself changed, are no news.
const fittedAt = new WeakMap();

const query = new URLSearchParams(location.search);
// Notes the reader opened whole (ids): the one they were sent to (?focus=) to begin with.
const opened = new Set([query.get("focus")].filter(Boolean));
// Paragraphs whose whole list the reader asked for (numbers, as strings): shown as the server
// sends them, full height.
const openRows = new Set(query.getAll("expand"));
// Paragraphs whose group discussion the reader opened themselves (the server sends one that has
// posts open: beside a short paragraph it is closed under its summary, which says how many).
const openDiscussions = new Set();
reading.addEventListener("click", (event) => {
  const details = event.target.closest(".margin > details.discussion > summary")?.parentElement;
  if (!details) return;
  const number = details.closest(".para-row").dataset.paragraph;
  // Clicked while closed, it opens: the reader's choice, kept; closed by them, it is theirs too.
  if (details.open) openDiscussions.delete(number);
  else openDiscussions.add(number);
  delete details.dataset.folded;
});

// What keeps a note whole, besides the reader's "Open": a form in it, its thread open, or the
// focus in one of the parts a compact note leaves out.
const KEEPS_WHOLE = "form, :scope > .replies[open], :scope > :is(.note-meta, .note-tags, .note-actions, .reply-link):focus-within";

function keptWhole(card) {
  return opened.has(card.dataset.annotation) || card.querySelector(KEEPS_WHOLE) !== null;
}

/** "Show 2 more notes on ¶5", "Show 3 notes and discussion of ¶1" (``none`` shown): on one
 * line of the margin, where it can. */
function moreText(n, number, none, talk) {
  const notes = n ? `${n} ${none ? "" : "more "}${n === 1 ? "note" : "notes"}` : "";
  if (!talk) return `Show ${notes} on ¶${number}`;
  return notes ? `Show ${notes} and discussion of ¶${number}` : `Show the discussion of ¶${number}`;
}

/** Fit paragraph ``row``'s margin beside its text, from the margin as the server sent it: its
 * notes whole while there is room, then the last ones compact, then the last ones folded. */
export function fit(row) {
  if (!row) return;
  arrange(row);
  // The heights it leaves, which the observer below need not report back.
  for (const part of parts(row)) fittedAt.set(part, part.getBoundingClientRect().height);
}

function arrange(row) {
  const margin = row?.querySelector(":scope > .margin");
  const para = row?.querySelector(":scope > .para");
  if (!margin || !para) return;
  const number = row.dataset.paragraph;
  const cards = [...margin.querySelectorAll(":scope > .note")];
  margin.classList.remove("is-fitted", "all-folded");
  const discussion = margin.querySelector(":scope > details.discussion");
  discussion?.classList.remove("is-folded");
  if (discussion?.dataset.folded) {
    discussion.open = true;
    delete discussion.dataset.folded;
  }
  for (const card of cards) {
    card.classList.remove("is-compact", "is-folded");
    card.classList.toggle("is-open", keptWhole(card));
  }
  // The link to fold under: the server's "Show N more" if it sent one, or one of ours (kept
  // while it serves, so that it keeps the focus).
  const more = margin.querySelector(":scope > .more-notes:not(.fold-more) > .more-notes-link");
  if (more?.dataset.text) more.firstChild.nodeValue = more.dataset.text;
  let ours = margin.querySelector(":scope > .fold-more");
  if (more) {
    ours?.remove();
    ours = null;
  }
  const done = (folded = 0) => {
    if (!folded) ours?.remove();
  };
  if (!wide.matches || openRows.has(number)) return done();

  const room = para.offsetHeight + parseFloat(getComputedStyle(para).marginBottom);
  const fits = () => margin.offsetHeight <= room;
  if (fits()) return done();
  margin.classList.add("is-fitted");
  // Never a note kept whole; never folded, one holding the focus.
  const compactable = cards.filter((card) => !card.classList.contains("is-open")).reverse();
  for (const card of compactable) {
    card.classList.add("is-compact");
    if (fits()) break;
  }
  for (const card of cards) {
    card.querySelector(":scope > .note-open")?.setAttribute("aria-expanded", String(card.classList.contains("is-open")));
  }
  let toggle = more ?? ours?.firstElementChild;
  let folded = 0;
  let talk = false;
  const say = () => {
    if (!toggle) {
      toggle = document.createElement("button");
      toggle.type = "button";
      toggle.className = "link-button more-notes-link";
      toggle.dataset.paragraph = number;
      toggle.append("");
      const line = document.createElement("p");
      line.className = "more-notes fold-more";
      line.append(toggle);
      if (cards.length) cards.at(-1).after(line);
      else margin.prepend(line);
    }
    // None left to show: the count goes, and the link says it (a line less beside a short text).
    const none = folded === cards.length;
    margin.classList.toggle("all-folded", none);
    toggle.dataset.text ??= toggle.firstChild.nodeValue;
    toggle.firstChild.nodeValue = moreText(folded + Number(toggle.dataset.more || 0), number, none, talk);
  };
  // The group's discussion, which the server sends open when it has posts, is closed under its
  // summary, then folded in last; never while the reader is in it, or opened it themselves, nor
  // one headed by an instructor's pinned question, which every member is to see.
  const free = discussion && !openDiscussions.has(number) && !discussion.matches(":focus-within") && !discussion.querySelector("form, :scope > .prompt");
  if (free && discussion.open && !fits()) {
    discussion.open = false;
    discussion.dataset.folded = "1";
  }
  for (const card of compactable) {
    if (fits()) break;
    if (card.contains(document.activeElement)) continue;
    card.classList.add("is-folded");
    folded++;
    say();
  }
  if (free && !fits()) {
    discussion.classList.add("is-folded");
    talk = true;
    say();
  }
  done(folded || talk);
}

/** Show note ``card`` whole (``open``) or by its first lines again. */
export function openCard(card, open = true) {
  opened[open ? "add" : "delete"](card.dataset.annotation);
  if (!open) card.querySelector(":scope > .replies[open]")?.removeAttribute("open"); // all of it
  card.classList.toggle("is-open", open);
  fit(card.closest(".para-row"));
}

/** Show paragraph ``number``'s list as the server sends it, whatever its height. */
export function openRow(number) {
  openRows.add(String(number));
  fit(document.getElementById(`p${number}`));
}

// ---- which paragraphs to fit, and when ----
const watching = new Map(); // id -> the paragraph the browser lays out, as the page has it now
const waiting = new Set();
let frame = 0;

// Sizes change after layout: fitted at the next frame (fitting at once, inside the observer's
// callback, would change the sizes it reports on in the same frame).
const resized = new ResizeObserver((entries) => {
  for (const entry of entries) {
    if (Math.abs(entry.borderBoxSize[0].blockSize - (fittedAt.get(entry.target) ?? -1)) < 0.5) continue;
    waiting.add(entry.target.closest(".para-row"));
  }
  if (!waiting.size) return;
  frame ||= requestAnimationFrame(() => {
    frame = 0;
    for (const row of waiting) if (row.isConnected) fit(row);
    waiting.clear();
  });
});

function watch(row) {
  const before = watching.get(row.id);
  if (before === row) return;
  if (before) unwatch(before); // swapped out by a live update
  watching.set(row.id, row);
  for (const part of parts(row)) resized.observe(part);
  fit(row);
}

function unwatch(row) {
  if (watching.get(row.id) === row) watching.delete(row.id);
  for (const part of parts(row)) resized.unobserve(part);
}

if ("ContentVisibilityAutoStateChangeEvent" in window) {
  // Those the browser laid out before this module ran (the parser yields, the first screen is
  // drawn), wherever the page has scrolled to since: a paragraph skipped has its content hidden.
  for (const row of document.querySelectorAll(".para-row")) {
    if (row.firstElementChild?.checkVisibility({ contentVisibilityAuto: true })) watch(row);
  }
  // Then as the browser starts (skipped: false) and stops laying out a paragraph.
  reading.addEventListener(
    "contentvisibilityautostatechange",
    (event) => {
      if (!event.target.matches(".para-row")) return;
      (event.skipped ? unwatch : watch)(event.target);
    },
    true, // it does not bubble
  );
} else {
  // A browser without it: paragraphs within a screen's height of the window.
  const near = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) (entry.isIntersecting ? watch : unwatch)(entry.target);
    },
    { rootMargin: "100% 0px" },
  );
  const all = () => {
    for (const row of document.querySelectorAll(".para-row")) near.observe(row);
  };
  all();
  onRefresh(all); // observing again what is observed does nothing
}

// A live update puts new paragraphs in: those in view are fitted before they are shown.
onRefresh(() => {
  for (const [id, row] of [...watching]) {
    const now = document.getElementById(id);
    if (now) watch(now);
    else unwatch(row);
  }
});

wide.addEventListener("change", () => {
  for (const row of watching.values()) fit(row);
});
