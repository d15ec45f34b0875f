// A note's own page and its edit page (every form on the page: reached without the reading
// page's script, or opened in a new tab): what is typed in their forms is kept as in the reading
// page's margin, under the same names, so the reading page lists it too. Words put back are
// shown, with a way to start again from what the page first held.
import { dropDraft, keepFormWords } from "./drafts.js";
import "./markdown-field.js";

for (const form of document.querySelectorAll("form[data-draft-kind]")) {
  const back = keepFormWords(form, form.dataset.draftKind, form.dataset.draftTarget);
  if (!back) continue;
  form.closest("details")?.setAttribute("open", "");
  const notice = document.createElement("p");
  notice.className = "hint draft-back";
  notice.setAttribute("role", "status");
  notice.textContent = back.changedSince
    ? "Your unsaved words are back, but the note has changed since you began them: saving replaces it. "
    : "Your unsaved words are back. ";
  const discard = document.createElement("button");
  discard.type = "button";
  discard.className = "link-button";
  discard.textContent = "Discard them";
  discard.addEventListener("click", () => {
    form.reset(); // back to what the page held
    dropDraft(form.dataset.draft);
    notice.remove();
    form.querySelector("textarea, input[type=text]").focus();
  });
  notice.append(discard);
  form.prepend(notice);
}
