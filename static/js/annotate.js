// The reading page's annotation tools: select words, then highlight them or write a note.
// Everything else (showing highlights and notes, editing, deleting) is plain HTML from the
// server; after a change this module fetches the page again and swaps in the changed parts.
import { api } from "./api.js";
import { changed, dropDraft, dropSent, keepDraft, readDrafts } from "./drafts.js";
import { formFromTemplate, nameSaveButton, reveal, say, showNote } from "./margin.js";
import { onRefresh, refresh } from "./page.js";
import { codePoints, pageContent, rangeToOffsets, selectors } from "./selection.js";

const reading = document.querySelector(".reading");
// The page's note form is the one source of the colours and audiences the tools offer.
const noteTemplate = document.getElementById("note-form-template").content;
const COLORS = [...noteTemplate.querySelectorAll('input[name="color"]')].map((input) => input.value).filter(Boolean);
const capitalise = (s) => s[0].toUpperCase() + s.slice(1);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child);
  return node;
}

const errorBox = element("p", { class: "annotate-error", role: "alert", hidden: "" });

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  toolbar.append(errorBox);
}

// ---- the toolbar shown beside a selection ----
const toolbar = element("div", { class: "annotate-toolbar", role: "toolbar", "aria-label": "Annotate the selected words", hidden: "" });
for (const color of COLORS) {
  const button = element("button", { type: "button", class: `tool tool-${color}`, "data-color": color },
    element("span", { class: `swatch swatch-${color}`, "aria-hidden": "true" }), capitalise(color));
  button.title = `Highlight in ${color}`;
  toolbar.append(button);
}
toolbar.append(element("button", { type: "button", class: "tool tool-note", "data-action": "annotate" }, "Annotate…"));
toolbar.append(element("button", { type: "button", class: "tool tool-note", "data-action": "suggest" }, "Suggest a correction…"));
document.body.append(toolbar);

let pending = null; // {start, end} of the selection the toolbar acts on

function currentOffsets() {
  const selection = document.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
  const range = selection.getRangeAt(0);
  if (!reading.contains(range.commonAncestorContainer)) return null;
  return rangeToOffsets(range);
}

function showToolbar() {
  const offsets = currentOffsets();
  if (!offsets) {
    if (!toolbar.contains(document.activeElement)) hideToolbar();
    return;
  }
  pending = offsets;
  const rect = document.getSelection().getRangeAt(0).getBoundingClientRect();
  toolbar.hidden = false;
  errorBox.hidden = true;
  const { top, left } = toolbarPlace(rect, toolbar.offsetWidth, toolbar.offsetHeight);
  toolbar.style.top = `${window.scrollY + top}px`;
  toolbar.style.left = `${window.scrollX + left}px`;
}

/** Where the toolbar goes, in the window's coordinates: below the selected words, or above
 * them when there is no room below (words near the bottom of a phone's screen), and always
 * wholly in the part of the page on screen (the visual viewport, when pinch-zoomed), whatever
 * the words' place: at an edge, or taller than the screen. */
function toolbarPlace(words, width, height) {
  const GAP = 8;
  const view = window.visualViewport;
  const viewLeft = view?.offsetLeft ?? 0;
  const viewTop = view?.offsetTop ?? 0;
  const viewRight = viewLeft + (view?.width ?? document.documentElement.clientWidth);
  const viewBottom = viewTop + (view?.height ?? document.documentElement.clientHeight);
  const within = (at, low, high) => Math.max(low, Math.min(at, high));
  let top = words.bottom + GAP;
  if (top + height > viewBottom - GAP && words.top - GAP - height >= viewTop + GAP) top = words.top - GAP - height;
  return {
    top: within(top, viewTop + GAP, viewBottom - GAP - height),
    left: within(words.left, viewLeft + GAP, viewRight - GAP - width),
  };
}

function hideToolbar() {
  toolbar.hidden = true;
  pending = null;
}

// ---- talking to the server ----
const slug = document.querySelector('meta[name="text-slug"]').content;
const source = new URL(`/texts/${slug}`, location.origin).href;

/** The API's fields for an audience as the page's forms name it ("private", "public" or a
 * group's option, which carries the group's id); one the reader no longer has is "private", as
 * the forms' own choice falls back to "Only me". */
function audienceFields(key) {
  const option = [...noteTemplate.querySelectorAll("select.audience-select option")].find((o) => o.value === key);
  if (option?.dataset.group) return { "scholia:visibility": "group", "scholia:group": Number(option.dataset.group) };
  return { "scholia:visibility": option?.value === "public" ? "public" : "private" };
}

function annotationFor(offsets, { color = null, body = "", tags = [], audience = reading.dataset.audience, question = false } = {}) {
  const bodies = [];
  if (body.trim()) bodies.push({ type: "TextualBody", purpose: "commenting", format: "text/markdown", value: body });
  for (const tag of tags) bodies.push({ type: "TextualBody", purpose: "tagging", value: tag });
  const annotation = {
    "@context": "http://www.w3.org/ns/anno.jsonld",
    type: "Annotation",
    motivation: question ? "questioning" : body.trim() ? "commenting" : "highlighting",
    body: bodies,
    target: { source, selector: selectors(pageContent(), offsets.start, offsets.end) },
    ...audienceFields(audience),
  };
  if (color) annotation["scholia:color"] = color;
  return annotation;
}

/** Who sees notes for an audience key, in the words of the page's "Who sees this". */
function audienceName(key) {
  if (key === "public") return "public";
  const option = [...noteTemplate.querySelectorAll("select.audience-select option")].find((o) => o.value === key);
  return key === "private" || !option ? "for you only" : `for ${option.textContent.replace(/^Group: /, "")}`;
}

async function highlight(color) {
  if (!pending) return;
  const offsets = pending;
  try {
    const created = await api("POST", "/api/v1/annotations", annotationFor(offsets, { color }));
    hideToolbar();
    document.getSelection().removeAllRanges();
    await refresh();
    say(`Highlighted in ${color}, ${audienceName(reading.dataset.audience)}.`);
    hintLearned();
    return created;
  } catch (error) {
    showError(error.message);
  }
}

// ---- the note editor, opened in the margin of the paragraph where the selection starts ----
function openEditor(offsets, draft = null) {
  closeEditor();
  const row = [...document.querySelectorAll(".para-row")].find((r) => Number(r.dataset.start) <= offsets.start && offsets.start <= Number(r.dataset.end));
  const margin = row.querySelector(".margin");
  const quote = selectors(pageContent(), offsets.start, offsets.end)[0].exact;
  // The page's own note form (the <template> "Note on ¶N" opens), with the words quoted, a
  // highlight colour chosen and a Cancel beside Save.
  const form = formFromTemplate("note", row);
  form.classList.replace("inline-form-panel", "note-editor");
  form.setAttribute("aria-label", "New note");
  const { body: textarea, tags, question } = form.elements;
  const audience = form.querySelector("select.audience-select");
  textarea.required = false; // tags alone make a tagged highlight
  form.elements.color.value = "yellow";
  form.prepend(element("blockquote", { class: "note-quote" }, quote.length > 240 ? `${quote.slice(0, 240)}…` : quote));
  const message = element("p", { class: "error", role: "alert", hidden: "" });
  const save = form.querySelector('button[type="submit"]');
  const actions = element("div", { class: "editor-actions" });
  save.before(message, actions);
  actions.append(save, element("button", { type: "button", class: "link-button", "data-action": "cancel" }, "Cancel"));
  if (draft) {
    textarea.value = draft.body;
    tags.value = draft.tags;
    if ([...audience.options].some((option) => option.value === draft.audience)) audience.value = draft.audience;
    nameSaveButton(form);
    question.checked = draft.question;
    form.elements.color.value = draft.color ?? "";
  }
  const name = editorDraft(offsets);
  const keep = () => {
    if (!textarea.value.trim() && !tags.value.trim()) return dropDraft(name);
    keepDraft(name, {
      ...offsets, quote, body: textarea.value, tags: tags.value, audience: audience.value,
      question: question.checked, color: form.elements.color.value,
    });
  };
  form.dataset.draft = name;
  form.addEventListener("input", keep);
  if (draft) keep();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const color = form.elements.color.value || null;
    try {
      const created = await api("POST", "/api/v1/annotations", annotationFor(offsets, {
        color, body: textarea.value, tags: tags.value.split(/[\s,]+/).filter(Boolean),
        audience: audience.value, question: question.checked,
      }));
      reading.dataset.audience = audience.value;
      dropDraft(name);
      closeEditor();
      await refresh();
      const id = created.id.split("/").pop();
      // In a margin already full the new note is brought in, not left under "Show 1 more".
      (await showNote(id))?.focus();
      say("Note saved.");
      hintLearned();
    } catch (error) {
      message.textContent = error.message;
      message.hidden = false;
    }
  });
  form.querySelector('[data-action="cancel"]').addEventListener("click", () => {
    closeEditor();
    row.querySelector(".para")?.focus?.();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeEditor();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  margin.prepend(form);
  changed(); // the list leaves out the draft being written
  hideToolbar();
  textarea.focus();
}

// ---- a suggested correction: the words to put in place of the selected ones, and why; shared
// with a group or publicly (an instructor of a group reading the text decides) ----
function field(label, control) {
  return element("p", { class: "field" }, element("label", { for: control.id }, label), control);
}

function openSuggestion(offsets) {
  closeEditor();
  const row = [...document.querySelectorAll(".para-row")].find((r) => Number(r.dataset.start) <= offsets.start && offsets.start <= Number(r.dataset.end));
  const quote = selectors(pageContent(), offsets.start, offsets.end)[0].exact;
  const replacement = element("input", { type: "text", id: "suggest-replacement", name: "replacement", maxlength: "2000", autocomplete: "off" });
  replacement.value = quote;
  const reason = element("textarea", { id: "suggest-reason", name: "body", rows: "2" });
  const audience = noteTemplate.querySelector("select.audience-select").cloneNode(true);
  audience.id = "suggest-audience";
  audience.querySelector('option[value="private"]')?.remove();
  audience.value = reading.dataset.audience;
  if (!audience.value) audience.value = "public"; // "private", or a group the reader left
  const message = element("p", { class: "error", role: "alert", hidden: "" });
  const form = element("form", { class: "note-form note-editor suggest-editor", "aria-label": "Suggest a correction" },
    element("blockquote", { class: "note-quote" }, quote.length > 240 ? `${quote.slice(0, 240)}…` : quote),
    field("Correct these words to", replacement),
    field("Why (optional)", reason),
    field("Who sees this", audience),
    message,
    element("div", { class: "editor-actions" },
      element("button", { type: "submit", class: "button" }, "Suggest"),
      element("button", { type: "button", class: "link-button", "data-action": "cancel" }, "Cancel")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const suggestion = annotationFor(offsets, { body: reason.value, audience: audience.value });
    suggestion.motivation = "editing";
    suggestion.body.push({ type: "TextualBody", purpose: "editing", format: "text/plain", value: replacement.value });
    try {
      const created = await api("POST", "/api/v1/annotations", suggestion);
      closeEditor();
      await refresh();
      (await showNote(created.id.split("/").pop()))?.focus();
      say("Suggestion saved: an instructor of a group reading this text decides.");
    } catch (error) {
      message.textContent = error.message;
      message.hidden = false;
    }
  });
  form.querySelector('[data-action="cancel"]').addEventListener("click", closeEditor);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeEditor();
  });
  row.querySelector(".margin").prepend(form);
  hideToolbar();
  replacement.focus();
}

function closeEditor() {
  const editor = document.querySelector(".note-editor");
  if (!editor) return;
  editor.remove();
  changed(); // closed with words in it (Cancel, Escape): they are kept, and listed
}

// ---- unsaved notes (drafts.js), listed above the text: the editor's, on their words (name
// "start-end"), and the margin's forms' (name "form:kind:target", kept by margin.js) ----
const editorDraft = ({ start, end }) => `${start}-${end}`;

/** Where the draft's words are now: where they were, or else where they first occur. */
function locateDraft(draft) {
  const content = pageContent();
  if (selectors(content, draft.start, draft.end)[0].exact === draft.quote) return { start: draft.start, end: draft.end };
  const at = content.indexOf(draft.quote);
  if (at < 0 || !draft.quote) return null;
  const start = codePoints(content.slice(0, at));
  return { start, end: start + codePoints(draft.quote) };
}

const FORM_LABELS = { reply: "reply", flag: "flag", note: "note on ¶", discuss: "post on ¶", edit: "changes to a note" };

function draftLabel(draft) {
  if (!draft.form) return `note on “${draft.quote.length > 80 ? `${draft.quote.slice(0, 80)}…` : draft.quote}”`;
  if (draft.target === "text") return "note on the whole text";
  const label = FORM_LABELS[draft.form];
  if (draft.form === "edit") return `${label} (“${(draft.fields?.body ?? "").slice(0, 40).trim()}…”)`;
  return label.endsWith("¶") ? `${label}${draft.target}` : label;
}

/** The link that opens a form draft's form, brought into the margin first if need be; for the
 * note on the whole text, its form's summary. */
async function formLink(draft) {
  if (draft.target === "text") return document.querySelector(".text-notes .note-form-toggle > summary");
  const selector = `a.inline-form-link[data-form="${draft.form}"][data-${draft.form === "note" || draft.form === "discuss" ? "paragraph" : "annotation"}="${draft.target}"]`;
  if (!document.querySelector(selector) && draft.form !== "note" && draft.form !== "discuss") await showNote(draft.target);
  return document.querySelector(selector);
}

function showDrafts() {
  document.querySelector(".draft-notice")?.remove();
  const shown = [...document.querySelectorAll("form[data-draft]")].filter((form) => !form.closest("details:not([open])"));
  const open = new Set(shown.map((form) => form.dataset.draft));
  const drafts = readDrafts().filter((draft) => draft && !open.has(draft.name) && (draft.quote || draft.form));
  if (!drafts.length) return;
  const list = element("ul", {});
  for (const draft of drafts.sort((a, b) => (a.start ?? 0) - (b.start ?? 0))) {
    const item = element("li", {}, `Your unsaved ${draftLabel(draft)} `);
    const words = Object.values(draft.fields ?? { body: draft.body }).filter((v) => v.trim()).join("\n");
    const showWords = (why) => {
      if (item.querySelector("textarea")) return;
      const box = element("textarea", { readonly: "", rows: "3", "aria-label": `What you wrote in your unsaved ${draftLabel(draft)}` });
      box.value = words;
      item.append(`(${why}; here is what you wrote) `, box);
    };
    const offsets = draft.form ? null : locateDraft(draft);
    if (draft.form || offsets) {
      const reopen = element("button", { type: "button", class: "link-button" }, "Reopen");
      reopen.addEventListener("click", async () => {
        if (!draft.form) {
          dropDraft(draft.name); // kept again, under where the words are now
          return openEditor(offsets, draft);
        }
        if (draft.form === "edit") {
          // In the margin if the note is on this page, else on its own edit page.
          await showNote(draft.target);
          const edit = document.querySelector(`[data-annotation="${CSS.escape(draft.target)}"] > .note-actions a.edit-link`);
          return edit ? edit.click() : location.assign(`/notes/${encodeURIComponent(draft.target)}/edit`);
        }
        const link = reveal(await formLink(draft)); // a reply's form: its thread opened
        if (!link && (draft.form === "reply" || draft.form === "flag")) {
          // On a reply whose note the margin leaves out: the note's own page, whose forms take
          // the same words back (note-page.js), if it is still there to answer.
          const page = `/notes/${encodeURIComponent(draft.target)}`;
          if ((await fetch(page, { method: "HEAD", credentials: "same-origin" })).ok) return location.assign(page);
        }
        if (!link) return showWords("what it was on is no longer on this page");
        if (link.matches("summary")) {
          link.parentElement.open = true;
          link.parentElement.querySelector("textarea").focus();
        } else if (link.getAttribute("aria-expanded") !== "true") link.click(); // margin.js fills it in
        link.scrollIntoView({ block: "center" });
      });
      item.append(reopen, " · ");
    } else {
      showWords("those words are no longer in the text");
    }
    const discard = element("button", { type: "button", class: "link-button" }, "Discard");
    discard.addEventListener("click", () => {
      // The form on the page holding its words, closed (the note on the whole text): emptied too.
      const form = draft.target === "text" ? document.querySelector(".text-notes .note-form-toggle form") : document.querySelector(`form[data-draft="${CSS.escape(draft.name)}"]`);
      form?.reset();
      dropDraft(draft.name);
      say(`Unsaved ${draftLabel(draft)} discarded.`);
    });
    item.append(discard);
    list.append(item);
  }
  reading.querySelector(".text-tools")?.after(element("section", { class: "text-header draft-notice", "aria-label": "Unsaved notes" }, list));
}
dropSent(); // a form sent from this page, or from a note's own page, came back here done
document.addEventListener("scholia:drafts", showDrafts);
showDrafts();

// ---- wiring ----
toolbar.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (!button) return;
  if (button.dataset.color) highlight(button.dataset.color);
  else if (button.dataset.action === "annotate" && pending) openEditor(pending);
  else if (button.dataset.action === "suggest" && pending) openSuggestion(pending);
});

document.addEventListener("mouseup", () => setTimeout(showToolbar, 0));
// Touch screens change the selection with handles, without mouse or key events.
let selectionTimer;
document.addEventListener("selectionchange", () => {
  clearTimeout(selectionTimer);
  selectionTimer = setTimeout(showToolbar, 400);
});
document.addEventListener("keyup", (event) => {
  if (event.shiftKey || event.key.startsWith("Arrow")) showToolbar();
});
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest?.("input, textarea, select");
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape") hideToolbar();
  const offsets = currentOffsets();
  if (!offsets) return;
  pending = offsets;
  if (event.key === "h") {
    event.preventDefault();
    highlight("yellow");
  } else if (event.key === "n") {
    event.preventDefault();
    openEditor(offsets);
  } else if (event.key === "t") {
    event.preventDefault();
    showToolbar();
    toolbar.querySelector("button").focus();
  }
});

// A highlight focuses its note; a note marks its highlight.
reading.addEventListener("click", (event) => {
  if (keyboardMode) return;
  const mark = event.target.closest("mark.hl");
  if (mark && document.getSelection().isCollapsed) {
    const id = mark.dataset.top; // the innermost highlight, whose colour shows
    showNote(id).then((note) => {
      activate(id);
      note?.focus();
    });
    return;
  }
  const note = event.target.closest(".note");
  if (note && !event.target.closest("a, button, form")) activate(note.dataset.annotation);
});

// ---- keyboard selection: paragraphs take a caret (edits are refused), so a reader can move
// with the arrow keys, extend with Shift+arrows, then press H, N or T ----
let keyboardMode = false;
const modeButton = element("button", { type: "button", class: "link-button keyboard-mode", "aria-pressed": "false" }, "Select with the keyboard");
// The hint on selecting words is told until the reader has used it once (a highlight or a
// note saved) in this browser; the keyboard's way stays.
const help = document.querySelector(".annotate-help");
const HINT_LEARNED = "scholia-selection-hint-learned";
function remembered(action) {
  try {
    return action(localStorage);
  } catch {
    return null; // storage off: the hint stays, which does no harm
  }
}
if (help) {
  help.append(" ", modeButton);
  help.hidden = false; // selecting words does something now
  help.classList.toggle("hint-learned", Boolean(remembered((s) => s.getItem(HINT_LEARNED))));
}
function hintLearned() {
  remembered((s) => s.setItem(HINT_LEARNED, "1"));
  help?.classList.add("hint-learned");
}

function applyKeyboardMode() {
  const on = keyboardMode;
  modeButton.setAttribute("aria-pressed", String(on));
  for (const para of document.querySelectorAll("p.para")) {
    if (on) {
      para.setAttribute("contenteditable", "true");
      para.setAttribute("aria-readonly", "true");
      para.setAttribute("role", "textbox");
      para.setAttribute("aria-multiline", "true");
      para.setAttribute("aria-label", `Paragraph ${para.closest(".para-row").dataset.paragraph}`);
      para.spellcheck = false;
    } else {
      for (const name of ["contenteditable", "aria-readonly", "role", "aria-multiline", "aria-label"]) para.removeAttribute(name);
    }
  }
}

onRefresh(applyKeyboardMode);

function setKeyboardMode(on) {
  keyboardMode = on;
  applyKeyboardMode();
  say(on ? "Keyboard selection on: Tab to a paragraph, select with Shift and the arrow keys, then press H, N or T." : "Keyboard selection off.");
  if (on) document.querySelector("p.para")?.focus();
}
modeButton.addEventListener("click", () => setKeyboardMode(!keyboardMode));
for (const type of ["beforeinput", "paste", "drop", "cut"]) {
  reading.addEventListener(type, (event) => {
    if (event.target.closest?.("p.para")) event.preventDefault();
  });
}

/** Marks the note and every mark of its words: those whose offset lies in the note's span
 * (the server cuts marks at every annotation's edges, so a mark is inside a span or outside). */
function activate(id) {
  for (const node of document.querySelectorAll(".is-active")) node.classList.remove("is-active");
  const note = document.getElementById(`a${id}`);
  note?.classList.add("is-active");
  if (!note?.dataset.start) return;
  const start = Number(note.dataset.start);
  const end = Number(note.dataset.end);
  for (const mark of document.querySelectorAll("mark.hl")) {
    const at = Number(mark.dataset.start);
    if (at >= start && at < end) mark.classList.add("is-active");
  }
}

function activateFromHash() {
  const match = /^#a(\d+)$/.exec(location.hash);
  if (match) showNote(match[1]).then(() => activate(match[1]));
}
window.addEventListener("hashchange", activateFromHash);
activateFromHash();
