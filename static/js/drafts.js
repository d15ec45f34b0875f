// Words a reader has written and not yet sent, kept in this browser (localStorage) until they
// are sent or discarded, so that a reload, a closed tab, a lost connection, an ended session or
// a stray Escape loses nothing. Keyed by reader and text; signing out clears them all (the
// server answers with Clear-Site-Data). annotate.js lists them above the text; a note's own page
// (note-page.js) keeps its forms' words under the same names as the reading page's margin.
const reader = document.querySelector("[data-reader]")?.dataset.reader;
const slug = document.querySelector('meta[name="text-slug"]')?.content;
const PREFIX = `scholia-draft:${reader}:${slug}:`;

function storage(action) {
  if (!reader) return null; // nobody signed in: nothing can be written, nothing is kept
  try {
    return action(localStorage);
  } catch {
    return null; // storage off or full: the form still has the words
  }
}

/** Keep ``draft`` under ``name`` (the note editor: "start-end"; a form: "form:kind:target"). */
export function keepDraft(name, draft) {
  storage((s) => s.setItem(PREFIX + name, JSON.stringify({ ...draft, name })));
}

export function dropDraft(name) {
  storage((s) => s.removeItem(PREFIX + name));
  changed();
}

export function readDraft(name) {
  return storage((s) => JSON.parse(s.getItem(PREFIX + name)));
}

/** Every draft of this reader on this text. */
export function readDrafts() {
  return storage((s) => Object.keys(s).filter((key) => key.startsWith(PREFIX)).map((key) => JSON.parse(s.getItem(key)))) ?? [];
}

/** Tell the list above the text that drafts were opened, closed or dropped. */
export function changed() {
  document.dispatchEvent(new Event("scholia:drafts"));
}

// The draft of the form this tab sent last (its storage key): the page that answers says whether
// it arrived. Taken as each page loads, so that it is judged by that page alone.
const SENT = "scholia-draft-sent";
const justSent = (() => {
  try {
    const key = sessionStorage.getItem(SENT);
    sessionStorage.removeItem(SENT);
    return key;
  } catch {
    return null;
  }
})();

const values = (fields, value) => Object.fromEntries(fields.map((field) => [field.name, value(field)]));
// Whitespace alone is no change: a form of blank fields keeps nothing.
const same = (a, b) => Object.keys(a).every((name) => a[name]?.trim() === b?.[name]?.trim());

/** What is typed in the form's text fields is kept, and put back when the same form (``kind``
 * on ``target``: "reply" on a note's id, "note" on a paragraph's number or "text", "edit" on a
 * note's id, ...) is shown again. A draft remembers what the form held to begin with (an edit
 * form holds the note): words that are back to it are no draft. Returns what was put back, if
 * anything: ``{ changedSince }`` says the form no longer begins as it did (the note was edited). */
export function keepFormWords(form, kind, target) {
  const fields = [...form.querySelectorAll("textarea, input[type=text]")];
  if (!fields.length) return null;
  const name = `form:${kind}:${target}`;
  form.dataset.draft = name;
  const base = values(fields, (field) => field.defaultValue);
  const kept = readDraft(name);
  const keep = () => {
    if (same(values(fields, (field) => field.value), base)) return dropDraft(name);
    keepDraft(name, { form: kind, target, base, fields: values(fields, (field) => field.value) });
  };
  form.addEventListener("input", keep);
  form.addEventListener("submit", () => {
    keep();
    storage(() => sessionStorage.setItem(SENT, PREFIX + name));
  });
  if (!kept?.fields || same(kept.fields, base)) return null;
  for (const field of fields) field.value = kept.fields[field.name] ?? field.value;
  return { changedSince: Boolean(kept.base) && !same(base, kept.base) };
}

/** The page answering the form this tab sent says it arrived (the server's success message):
 * what was kept of that form goes. Any other draft stays, sent and refused ones included. */
export function dropSent() {
  if (!justSent || !document.querySelector(".flash-success")) return;
  storage((s) => s.removeItem(justSent));
  changed();
}
