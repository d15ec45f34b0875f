// The margin: "Show N more notes" opens a paragraph's whole list in place, and the Reply, Flag,
// "Who sees this", "Note on ¶N" and "Discuss ¶N" links open their form in place. Without
// JavaScript the same links lead to the page with that list (?expand=N) or that form (?note=N,
// ?discuss=N), or to the note's own page with the form. Agree, Question and Hide are links to
// that page too, and act here in one click.
import { api } from "./api.js";
import { changed, dropDraft, keepFormWords } from "./drafts.js";
import { fit, openCard, openRow } from "./fit.js";
import "./markdown-field.js";
import { onRefresh, refresh, setMyFlag, setMyReaction } from "./page.js";

const reading = document.querySelector(".reading");

const status = Object.assign(document.createElement("div"), { className: "visually-hidden" });
status.setAttribute("role", "status");
status.setAttribute("aria-live", "polite");
document.body.append(status);

/** Tell a screen reader what just happened, without moving its focus. */
export function say(message) {
  status.textContent = message;
}

/** List every note of paragraph ``number``: the page's address keeps it, so refreshes do too. */
export async function expandParagraph(number) {
  const url = new URL(location.href);
  if (!url.searchParams.getAll("expand").includes(String(number))) url.searchParams.append("expand", number);
  history.replaceState(history.state, "", url);
  openRow(number);
  await refresh();
}

/** "Show N more notes": the notes folded beside the paragraph (fit.js), and those the server
 * left out, listed in full; the first of them takes the focus from the link, which goes. */
async function showMore(link) {
  const number = link.dataset.paragraph;
  const listed = (row) => [...(row?.querySelectorAll(":scope > .margin > .note") ?? [])];
  const before = listed(link.closest(".para-row")).filter((card) => !card.classList.contains("is-folded")).length;
  openRow(number);
  if (Number(link.dataset.more) || number === "0") await expandParagraph(number);
  if (number !== "0") listed(document.getElementById(`p${number}`))[before]?.focus();
}

/** ``node`` with every closed <details> around it opened (a reply in a thread the margin
 * shows closed), so that it can be seen and focused. */
export function reveal(node) {
  for (let closed = node?.parentElement.closest("details:not([open])"); closed; closed = closed.parentElement.closest("details:not([open])")) {
    closed.open = true;
  }
  // A note the margin shows by its first lines, or folds (fit.js), is shown whole.
  const card = node?.closest(".margin > .note");
  if (card?.matches(".is-compact, .is-folded")) openCard(card);
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
    fit(link.closest(".para-row"));
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
  // Posted, it comes back to this page as it is: its lens, filters and place.
  form.append(Object.assign(document.createElement("input"), { type: "hidden", name: "back", value: pageQuery() }));
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
  if (link.dataset.form === "flag") form.addEventListener("submit", (event) => sendFlag(event, link));
  keepFormWords(form, link.dataset.form, link.dataset.annotation ?? link.dataset.paragraph);
  (link.closest(".note-actions, .margin-tools") ?? link).after(form);
  link.setAttribute("aria-controls", form.id);
  link.setAttribute("aria-expanded", "true");
  fit(link.closest(".para-row")); // the note with the form is kept whole, the others make room
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
    actions.append(paragraph("error", "alert", error.message));
    return;
  }
  const focused = document.activeElement === link;
  if (kind) setMyReaction(id, kind, !wasMine);
  await refresh();
  const same = kind ? `a[data-react="${kind}"]` : "a[data-hide]";
  // Only if the swap took it: a reader who moved on meanwhile (to the next link) stays there.
  const lost = !document.activeElement || document.activeElement === document.body;
  if (focused && lost) document.querySelector(`[data-annotation="${id}"] > .note-actions ${same}`)?.focus();
}

/** This page's lens and filters, for a form to come back to (notes.back_to_page). */
function pageQuery() {
  const back = new URLSearchParams(location.search);
  if (!back.has("lens")) back.set("lens", reading.dataset.lens); // the one the page chose
  return back.toString();
}

/** Flag in place: the form gives way to the thanks, where the reader is (a page sent back after
 * a form would show its message at the top, off screen), and Flag becomes "Flagged". */
async function sendFlag(event, link) {
  event.preventDefault();
  const form = event.target;
  const id = link.dataset.annotation;
  form.querySelector(".error")?.remove();
  try {
    await api("POST", `/api/v1/annotations/${id}/flags`, { reason: form.elements.reason.value });
  } catch (error) {
    form.append(paragraph("error", "alert", error.message));
    return;
  }
  dropDraft(form.dataset.draft);
  const thanks = paragraph("hint flag-sent", "status");
  thanks.tabIndex = -1;
  form.replaceWith(thanks);
  thanks.textContent = "Flagged. Thank you: the instructors will see your flag."; // announced
  thanks.focus(); // the form that had it is gone; the reader stays where they were
  setMyFlag(id);
}

/** A message for the reader: a paragraph of ``className`` with ARIA ``role``. */
function paragraph(className, role, text = "") {
  const message = document.createElement("p");
  message.className = className;
  message.setAttribute("role", role);
  message.textContent = text;
  return message;
}

// Delete in the margin is a link to the note's page (no button per note): here it sends the
// page's one form for such actions, as a Delete button there would.
function deleteNote(link) {
  const form = document.getElementById("post-actions");
  const action = new URL(link.dataset.delete, location.href);
  action.searchParams.set("back", pageQuery());
  form.action = action;
  form.submit();
}

// ---- editing a note where it is (without JavaScript, Edit leads to the note's edit page) ----

/** The note's words, tags, colour and kind in the page's note form, in place of its words, saved
 * through the API. Its place in the text and its audience are not changed here ("Who sees this"
 * moves a thread). What is typed is kept as the edit page keeps it (one draft for both). */
async function editInPlace(link) {
  const item = link.closest(".note, .reply");
  const id = item.dataset.annotation;
  const open = item.querySelector(":scope > form.edit-in-place");
  if (open) return open.elements.body.focus();
  const actions = item.querySelector(":scope > .note-actions");
  actions.querySelector(".error")?.remove();
  let note;
  try {
    note = await api("GET", `/api/v1/annotations/${id}`);
  } catch (error) {
    return actions.append(paragraph("error", "alert", error.message));
  }
  const form = formFromTemplate("note", link.closest(".para-row"));
  form.classList.replace("inline-form-panel", "edit-in-place");
  form.setAttribute("aria-label", "Edit note");
  for (const field of [form.elements.start, form.elements.end, form.elements.audience]) {
    form.querySelector(`label[for="${field?.id}"]`)?.remove();
    field?.remove();
  }
  const reply = item.matches(".reply");
  if (reply) {
    form.querySelector("fieldset.colors")?.remove(); // a reply has no words of the text
    form.elements.question.closest("label").remove(); // and is a reply, not a question
  }
  const bodies = note.body ?? [];
  const { body, tags } = form.elements;
  body.required = false; // tags alone make a tagged highlight
  body.defaultValue = bodies.find((b) => b.purpose !== "tagging")?.value ?? "";
  tags.defaultValue = bodies.filter((b) => b.purpose === "tagging").map((b) => b.value).join(" ");
  const label = form.querySelector(`label[for="${body.id}"]`);
  label.replaceChildren(reply ? "Your reply " : "Your note ", label.querySelector(".hint"));
  if (!reply) {
    form.elements.question.checked = note.motivation === "questioning";
    form.elements.color.value = note["scholia:color"] ?? "";
  }
  const save = form.querySelector('button[type="submit"]');
  save.classList.remove("save-to");
  save.textContent = "Save changes";
  const cancel = Object.assign(document.createElement("button"), { type: "button", className: "link-button", textContent: "Cancel" });
  save.after(cancel);
  const words = item.querySelector(":scope > .note-body");
  const close = () => {
    form.remove();
    if (words) words.hidden = false;
    changed(); // closed with words in it: they are kept, and listed above the text
    link.focus();
  };
  cancel.addEventListener("click", close);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") close();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  const back = keepFormWords(form, "edit", id);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.querySelector(".error")?.remove();
    const changes = { body: [] };
    if (body.value.trim()) changes.body.push({ type: "TextualBody", purpose: reply ? "replying" : "commenting", format: "text/markdown", value: body.value });
    for (const tag of tags.value.split(/[\s,]+/).filter(Boolean)) changes.body.push({ type: "TextualBody", purpose: "tagging", value: tag });
    if (!reply) {
      changes["scholia:color"] = form.elements.color.value || null;
      changes.motivation = form.elements.question.checked ? "questioning" : body.value.trim() ? "commenting" : "highlighting";
    }
    try {
      await api("PATCH", `/api/v1/annotations/${id}`, changes);
    } catch (error) {
      return save.before(paragraph("error", "alert", error.message)); // the words stay in the form, and kept
    }
    dropDraft(form.dataset.draft);
    form.remove(); // an open form keeps its part as it is through a refresh
    await refresh();
    document.querySelector(`#a${id}`)?.focus();
    say("Note saved.");
  });
  if (words) words.hidden = true;
  actions.after(form);
  if (back) form.prepend(Object.assign(document.createElement("p"), { className: "hint draft-back", textContent: "Your unsaved changes are back." }));
  changed();
  body.focus();
}


reading.addEventListener("click", (event) => {
  // A note shown by its first lines opens whole with its "Open", or a click on it elsewhere than
  // on a link (not at the end of selecting words in it).
  const compact = event.target.closest(".margin > .note.is-compact");
  if (compact && !event.target.closest("a, button") && document.getSelection().isCollapsed) {
    openCard(compact);
    return;
  }
  const link = event.target.closest("a.inline-form-link, .more-notes-link, a.note-open, a[data-react], a[data-hide], a[data-delete], a.edit-link");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  if (link.classList.contains("note-open")) openCard(link.closest(".note"), !link.closest(".note").classList.contains("is-open"));
  else if (link.classList.contains("more-notes-link")) showMore(link);
  else if (link.classList.contains("edit-link")) editInPlace(link);
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
