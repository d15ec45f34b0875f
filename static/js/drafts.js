// Words a reader has written and not yet sent, kept in this browser (localStorage) until they
// are sent or discarded, so that a reload, a closed tab, a lost connection, an ended session or
// a stray Escape loses nothing. Keyed by reader and text; signing out clears them all (the
// server answers with Clear-Site-Data). annotate.js lists them above the text.
const reader = document.querySelector(".reading")?.dataset.reader;
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
