// A note's own page (every form open: reached without the reading page's script, or opened in a
// new tab): what is typed in its forms is kept as in the reading page's margin, under the same
// names, so the reading page lists it too and puts it back in the margin's form.
import { keepFormWords } from "./drafts.js";

for (const form of document.querySelectorAll("form[data-draft-kind]")) {
  keepFormWords(form, form.dataset.draftKind, form.dataset.draftTarget);
  // Words put back are shown: their form's <details> opens.
  if ([...form.elements].some((field) => field.type !== "hidden" && field.value?.trim())) form.closest("details")?.setAttribute("open", "");
}
