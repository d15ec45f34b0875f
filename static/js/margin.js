// The margin: "Show N more notes" opens a paragraph's whole list in place, and the Reply, Flag,
// "Who sees this", "Note on ¶N" and "Discuss ¶N" links open their form in place. Without
// JavaScript the same links lead to the page with that list (?expand=N) or that form (?note=N,
// ?discuss=N), or to the note's own page with the form. Agree, Question and Hide are links to
// that page too, and act here in one click.
import { api } from "./api.js";
import { changed, keepFormWords } from "./drafts.js";
import { onRefresh, refresh, setMyReaction } from "./page.js";

const reading = document.querySelector(".reading");

/** List every note of paragraph ``number``: the page's address keeps it, so refreshes do too. */
export async function expandParagraph(number) {
  const url = new URL(location.href);
  if (!url.searchParams.getAll("expand").includes(String(number))) url.searchParams.append("expand", number);
  history.replaceState(history.state, "", url);
  await refresh();
}

/** ``node`` with every closed <details> around it opened (a reply in a thread the margin
 * shows closed), so that it can be seen and focused. */
export function reveal(node) {
  for (let closed = node?.parentElement.closest("details:not([open])"); closed; closed = closed.parentElement.closest("details:not([open])")) {
    closed.open = true;
  }
  return node;
}

/** An annotation's note, brought into the margin first if the margin left it out. */
export async function showNote(id) {
  const note = document.getElementById(`a${id}`);
  if (note) return reveal(note);
  const mark = document.querySelector(`mark.hl[data-starts~="${CSS.escape(String(id))}"]`);
  const number = mark?.closest(".para-row")?.dataset.paragraph;
  if (!number || !document.querySelector(`#p${number} .more-notes-link`)) return null;
  await expandParagraph(number);
  return reveal(document.getElementById(`a${id}`));
}

/** A note form's Save button says where the note goes ("Save to HIST 210"), whatever "Who sees
 * this" is set to; each choice carries its words (``data-save``). */
export function nameSaveButton(form) {
  const choice = form?.querySelector("select.audience-select")?.selectedOptions[0];
  const save = form?.querySelector("button.save-to");
  if (choice?.dataset.save && save) save.textContent = choice.dataset.save;
}
document.addEventListener("change", (event) => {
  if (event.target.matches("select.audience-select")) nameSaveButton(event.target.form);
});

// ---- one form at a time, cloned from the page's <template>s ----
let made = 0;

/** A fresh copy of the page's ``kind`` form (reply, flag, note, discuss), with ids of its own
 * and placed in paragraph ``row`` if given; null if the page has none. */
export function formFromTemplate(kind, row = null) {
  const template = document.getElementById(`${kind}-form-template`);
  if (!template) return null;
  const form = template.content.firstElementChild.cloneNode(true);
  const id = `inline-${kind}-${++made}`;
  form.id = id;
  if (template.dataset.action) form.action = template.dataset.action;
  if (row) {
    for (const number of form.querySelectorAll(".paragraph-number")) number.textContent = row.dataset.paragraph;
    if (form.elements.start) form.elements.start.value = row.dataset.start;
    if (form.elements.end) form.elements.end.value = row.dataset.end;
  }
  for (const label of form.querySelectorAll("label[data-for]")) {
    const field = form.elements[label.dataset.for];
    field.id = `${id}-${label.dataset.for}`;
    label.htmlFor = field.id;
  }
  const audience = form.querySelector("select.audience-select");
  if (audience) {
    form.querySelector(`label[for="${audience.id}"]`).htmlFor = `${id}-audience`;
    audience.id = `${id}-audience`;
    audience.value = reading.dataset.audience || "private";
    nameSaveButton(form);
  }
  return form;
}

function openInlineForm(link) {
  const open = document.getElementById(link.getAttribute("aria-controls") ?? "");
  if (open) {
    open.remove();
    link.setAttribute("aria-expanded", "false");
    changed(); // closed with words in it: they are kept, and listed above the text
    return;
  }
  const form = formFromTemplate(link.dataset.form, link.closest(".para-row"));
  if (!form) return;
  const action = link.dataset.action ?? form.getAttribute("action")?.replace("/0/", `/${link.dataset.annotation}/`);
  if (action) form.action = action;
  // A reply names the audience its writer saw: a thread moved meanwhile does not take it along.
  const seen = form.querySelector('input[type="hidden"][name="audience"]');
  if (seen) seen.value = link.dataset.audience ?? "";
  const audience = form.querySelector("select.audience-select");
  if (audience) {
    if (link.dataset.audience) audience.value = link.dataset.audience; // "Who sees this": the note's
    const replies = Number(link.dataset.replies || 0);
    if (replies) form.querySelector(".replies-included").textContent = `, its ${replies} ${replies === 1 ? "reply" : "replies"} included`;
  }
  form.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    openInlineForm(link);
    link.focus();
  });
  keepFormWords(form, link.dataset.form, link.dataset.annotation ?? link.dataset.paragraph);
  (link.closest(".note-actions, .margin-tools") ?? link).after(form);
  link.setAttribute("aria-controls", form.id);
  link.setAttribute("aria-expanded", "true");
  changed();
  form.querySelector("textarea, input[type=text], select")?.focus();
}

// The note on the whole text: its form is on the page, closed in a <details>. What is typed in
// it is kept from its first opening, and listed above the text while it is closed again. A live
// refresh that swaps the section in anew keeps it open (page.js), and so kept.
function keepWholeTextNote() {
  const details = reading.querySelector(".text-notes .note-form-toggle");
  const form = details?.querySelector("form");
  if (details?.open && !form.dataset.draft) keepFormWords(form, "note", "text");
}
reading.addEventListener(
  "toggle",
  (event) => {
    if (!event.target.matches(".text-notes .note-form-toggle")) return;
    keepWholeTextNote();
    changed();
  },
  true, // toggle does not bubble
);
onRefresh(keepWholeTextNote);

/** React or hide through the API, then show the page as it now is, the link keeping focus. */
async function act(link) {
  const item = link.closest("[data-annotation]");
  const id = item.dataset.annotation;
  const actions = item.querySelector(":scope > .note-actions");
  actions.querySelector(".error")?.remove();
  const kind = link.dataset.react;
  const wasMine = link.classList.contains("reaction-mine");
  try {
    if (kind) await api(wasMine ? "DELETE" : "PUT", `/api/v1/annotations/${id}/reactions/${kind}`);
    else await api("POST", `/api/v1/annotations/${id}/hidden`, { hidden: link.dataset.hide === "true" });
  } catch (error) {
    const message = document.createElement("p");
    message.className = "error";
    message.setAttribute("role", "alert");
    message.textContent = error.message;
    actions.append(message);
    return;
  }
  const focused = document.activeElement === link;
  if (kind) setMyReaction(id, kind, !wasMine);
  await refresh();
  const same = kind ? `a[data-react="${kind}"]` : "a[data-hide]";
  if (focused) document.querySelector(`[data-annotation="${id}"] > .note-actions ${same}`)?.focus();
}

// Delete in the margin is a link to the note's page (no button per note): here it sends the
// page's one form for such actions, as a Delete button there would.
function deleteNote(link) {
  const form = document.getElementById("post-actions");
  const action = new URL(link.dataset.delete, location.href);
  const back = new URLSearchParams(location.search); // back to this lens and filters
  if (!back.has("lens")) back.set("lens", reading.dataset.lens); // the one the page chose
  action.searchParams.set("back", back);
  form.action = action;
  form.submit();
}

reading.addEventListener("click", (event) => {
  const link = event.target.closest("a.inline-form-link, a.more-notes-link, a[data-react], a[data-hide], a[data-delete]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  if (link.classList.contains("more-notes-link")) expandParagraph(link.dataset.paragraph);
  else if (link.dataset.delete) deleteNote(link);
  else if (link.matches("[data-react], [data-hide]")) act(link);
  else openInlineForm(link);
});

// A link to a note (#a123), a highlight or a paragraph: the browser scrolls there while the page
// is still being laid out, and what is laid out later above it (a paragraph coming near the
// screen, the web font arriving) can push it off screen. It is scrolled to again until it stays
// put, unless the reader scrolls, clicks or types first. A note the margin left out (#a123) is
// brought in first.
async function goToLinked() {
  const linked = /^#a(\d+)$/.exec(location.hash);
  const target = linked ? await showNote(linked[1]) : document.getElementById(location.hash.slice(1));
  if (!target) return;
  let moved = false;
  for (const type of ["wheel", "touchstart", "keydown", "pointerdown"]) {
    addEventListener(type, () => (moved = true), { once: true, capture: true, passive: true });
  }
  await document.fonts.ready;
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  for (let frames = 0, still = 0; frames < 60 && still < 3 && !moved; frames++) {
    const before = target.getBoundingClientRect().top;
    target.scrollIntoView({ behavior: "instant" }); // not smooth: each frame would start over
    await frame();
    still = target.getBoundingClientRect().top === before ? still + 1 : 0;
  }
}
if (location.hash.length > 1) goToLinked();
