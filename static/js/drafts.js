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

/** What is typed in the form's text fields is kept, and put back when the same form (``kind``
 * on ``target``: "reply" on a note's id, "note" on a paragraph's number or "text", ...) is shown
 * again. Sending it marks it sent; it goes once a page says it arrived (``dropSent``), and stays
 * if the server refused it, even for an ended session. */
export function keepFormWords(form, kind, target) {
  const fields = [...form.querySelectorAll("textarea, input[type=text]")];
  if (!fields.length) return;
  const name = `form:${kind}:${target}`;
  form.dataset.draft = name;
  const kept = readDraft(name);
  for (const field of fields) field.value = kept?.fields?.[field.name] ?? field.value;
  const keep = (sent) => {
    if (!fields.some((field) => field.value.trim())) return dropDraft(name);
    keepDraft(name, { form: kind, target, sent, fields: Object.fromEntries(fields.map((f) => [f.name, f.value])) });
  };
  form.addEventListener("input", () => keep(false));
  form.addEventListener("submit", () => keep(true));
}

/** A page that came back with the server's "done" (a success message): the forms sent before
 * it arrived, so what was kept of them goes. */
export function dropSent() {
  if (!document.querySelector(".flash-success")) return;
  for (const draft of readDrafts()) if (draft?.sent) dropDraft(draft.name);
}
