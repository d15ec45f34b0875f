// Swapping in fresh server-rendered parts of the reading page, keeping the reader's place.
// The server is the only renderer. A live update brings the parts that changed (a paragraph by
// its number, 0 for the notes on the whole text), rendered with the page's lens and filters:
// each replaces the old one. Anything else fetches the whole page.

const SWAPPED = [".para-row", "#text-notes-link", "#part-0", "#tag-suggestions", "#nav-inbox"];

/** A part the reader is writing in, or selecting words in, is left alone until they are done. */
function busy(node) {
  if (node.contains(document.activeElement) && document.activeElement.matches("input, textarea, select, button, summary")) return true;
  if (selecting(node)) {
    waitingForSelection = true;
    return true;
  }
  return [...node.querySelectorAll("textarea, input[type=text]")].some((field) => field.value.trim() && !field.readOnly);
}

// Replacing a paragraph would take away the words the reader has selected (and the toolbar
// with them); it is swapped in once the selection is gone.
function selecting(node) {
  const selection = document.getSelection();
  return Boolean(selection && !selection.isCollapsed && selection.rangeCount && selection.getRangeAt(0).intersectsNode(node));
}
let waitingForSelection = false;
document.addEventListener("selectionchange", () => {
  if (waitingForSelection && document.getSelection()?.isCollapsed) {
    waitingForSelection = false;
    refresh();
  }
});

const listeners = [];
export function onRefresh(callback) {
  listeners.push(callback);
}

let running = null;
let again = false;

// Parts a live update brought and not yet swapped in (number -> HTML, the latest kept), and the
// page query they were rendered for; null: the whole page is wanted.
let wanted = new Map();
let wantedFor = location.search;

/** Fetch the page again and swap in what changed; or, given parts (number -> HTML) rendered for
    the page's ``query``, swap in just those. Calls made meanwhile are merged into one. */
export async function refresh(parts, query = location.search) {
  if (wanted !== null) {
    if (parts && (wanted.size === 0 || wantedFor === query)) {
      for (const [number, html] of parts) wanted.set(number, html);
      wantedFor = query;
    } else wanted = null;
  }
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      const [asked, askedFor] = [wanted, wantedFor];
      wanted = new Map();
      // Parts rendered for another query than the page has now (the reader opened a paragraph's
      // whole list meanwhile, ?expand=) would undo it: the whole page comes instead.
      const stale = asked !== null && asked.size > 0 && askedFor !== location.search;
      await (asked === null || stale ? swap() : swapParts(asked));
    } while (again);
  })();
  try {
    await running;
  } finally {
    running = null;
  }
}

// What the server last sent for each part swapped in: a part it sends again unchanged is left
// as it is, not laid out again, and whatever the reader opened in it (a form, a list) stays open.
const served = new Map();

async function swap() {
  const response = await fetch(location.pathname + location.search, { credentials: "same-origin" });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  await putIn(() => {
    for (const selector of SWAPPED) {
      for (const node of document.querySelectorAll(selector)) {
        replacePart(node, node.id ? fresh.getElementById(node.id) : fresh.querySelector(selector));
      }
    }
  });
}

async function swapParts(parts) {
  await putIn(() => {
    for (const [number, html] of parts) {
      const id = number === 0 ? "part-0" : `p${number}`;
      const fresh = new DOMParser().parseFromString(html, "text/html");
      replacePart(document.getElementById(id), fresh.getElementById(id));
    }
  });
}

/** Swap parts in with ``replaceAll``, the reader kept where they were reading. */
async function putIn(replaceAll) {
  // From here to putting the caret back nothing awaits: no key press can fall in between.
  const caret = caretInParagraph();
  const focus = caret ? null : focusInPart();
  const anchor = [...document.querySelectorAll(".para-row")].find((row) => row.getBoundingClientRect().bottom > 0);
  const before = anchor?.getBoundingClientRect().top ?? 0;
  replaceAll();
  markMyReactions();
  markMyFlags();
  for (const callback of listeners) callback();
  if (caret) putCaretBack(caret);
  if (focus) putFocusBack(focus);
  if (anchor) {
    keepPlace(anchor.id, before);
    // Paragraphs near the screen are laid out at the next frame, at their new size.
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    keepPlace(anchor.id, before);
  }
}

// A keyboard reader's caret (annotate.js's keyboard selection) is in a paragraph that may be
// swapped: where it was, as the row and the number of characters before it, to put it back.
function caretInParagraph() {
  const para = document.activeElement;
  const selection = document.getSelection();
  if (!para?.matches("p.para") || !selection?.rangeCount || !para.contains(selection.focusNode)) return null;
  const before = document.createRange();
  before.selectNodeContents(para);
  before.setEnd(selection.focusNode, selection.focusOffset);
  return { para, row: para.closest(".para-row").id, offset: before.toString().length };
}

// Any other focused control in a part that may be swapped (a note's Agree link, a thread's
// summary): where it was, as the nearest element with an id and its place among those of its
// tag there, so a keyboard reader's focus survives a live update of the same markup.
function focusInPart() {
  const element = document.activeElement;
  const holder = element?.closest?.("[id]");
  if (!holder || element === document.body || !element.closest(SWAPPED.join(","))) return null;
  return { element, holder: holder.id, tag: element.tagName, index: [...holder.querySelectorAll(element.tagName)].indexOf(element) };
}

function putFocusBack({ element: old, holder, tag, index }) {
  if (old.isConnected) return; // not swapped: focus never left
  const again = document.getElementById(holder);
  const element = holder === old.id ? again : again?.querySelectorAll(tag)[index];
  element?.focus({ preventScroll: true });
}

function putCaretBack({ para: old, row, offset }) {
  if (old.isConnected) return; // not swapped: focus and caret never left
  const para = document.querySelector(`#${CSS.escape(row)} p.para`);
  if (!para) return;
  para.focus({ preventScroll: true });
  const walker = document.createTreeWalker(para, NodeFilter.SHOW_TEXT);
  let left = offset;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (left <= node.length) {
      document.getSelection().collapse(node, left);
      return;
    }
    left -= node.length;
  }
}

function replacePart(node, replacement) {
  if (!node || !replacement) return;
  if (node.id === "part-0") {
    // The count above the text follows the notes below it, even while the reader writes there.
    const count = document.querySelector(".whole-text-count");
    if (count) count.textContent = replacement.dataset.count;
  }
  if (busy(node)) return;
  const html = replacement.outerHTML;
  if (node.id) {
    // The first time, the part as the page has it: the same unless a script changed it.
    const last = served.get(node.id) ?? node.outerHTML;
    served.set(node.id, html);
    if (last === html) return;
  }
  // Left as the reader has them: what is open stays open, and a thread stays closed (the
  // server sends one open to a reader sent to it, ?focus=, however often they close it).
  for (const details of node.querySelectorAll("details[id]")) {
    if (!details.open && !details.matches(".replies")) continue;
    replacement.querySelector(`#${CSS.escape(details.id)}`)?.toggleAttribute("open", details.open);
  }
  // A paragraph off screen is not laid out (content-visibility: auto) and stands in at the
  // size it last had: its replacement keeps that size until it is shown.
  if (node.matches(".para-row")) replacement.style.containIntrinsicSize = `auto ${node.getBoundingClientRect().height}px`;
  // The reader's own form for a note on the whole text stays as they left it.
  const slot = node.querySelector(".text-note-form-slot");
  if (slot) replacement.querySelector(".text-note-form-slot")?.replaceWith(slot);
  node.replaceWith(document.adoptNode(replacement));
}

// The reader's reactions: parts shared with others are rendered for nobody's, and marked here.
const mine = new Set((document.querySelector(".reading")?.dataset.myReactions ?? "").split(" ").filter(Boolean));

/** Note that the reader now has (or no longer has) reaction ``kind`` on note ``id``. */
export function setMyReaction(id, kind, on) {
  mine[on ? "add" : "delete"](`${id}:${kind}`);
  markMyReactions();
}

export function markMyReactions() {
  for (const link of document.querySelectorAll(".reading a[data-react]")) {
    const id = link.closest("[data-annotation]")?.dataset.annotation;
    const on = mine.has(`${id}:${link.dataset.react}`);
    if (on === link.classList.contains("reaction-mine")) continue;
    link.classList.toggle("reaction-mine", on);
    if (on) {
      const yours = document.createElement("span");
      yours.className = "visually-hidden";
      yours.textContent = " (yours)";
      link.append(yours);
    } else link.querySelector(".visually-hidden")?.remove();
  }
}

// The reader's flags still waiting for a moderator: parts shared with others offer Flag on every
// note but the reader's own, and here it becomes "Flagged" on those they flagged (the server
// refuses a second flag anyway, and the note's own page says when and why).
const myFlags = new Set((document.querySelector(".reading")?.dataset.myFlags ?? "").split(" ").filter(Boolean));

/** Note that the reader has flagged note ``id``. */
export function setMyFlag(id) {
  myFlags.add(String(id));
  markMyFlags();
}

function markMyFlags() {
  for (const link of document.querySelectorAll(".reading a.flag-link")) {
    if (!myFlags.has(link.dataset.annotation)) continue;
    const flagged = document.createElement("span");
    flagged.className = "hint flagged-label";
    flagged.textContent = "Flagged";
    link.replaceWith(flagged);
  }
}

/** Scroll so that the element ``id`` is ``top`` pixels from the top of the window again. */
function keepPlace(id, top) {
  const now = document.getElementById(id)?.getBoundingClientRect().top ?? top;
  window.scrollBy(0, now - top);
}

markMyReactions();
markMyFlags();
