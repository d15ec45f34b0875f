// A note's words as they will be saved: how many characters of the limit they use, and a
// preview the server renders with the same Markdown and cleaning as a saved note's. Every note,
// reply and edit form's body gets both when first focused, forms copied from <template>s too.
import { api } from "./api.js";

let made = 0;

function counted(textarea) {
  return [...textarea.value.replaceAll("\r\n", "\n")].length; // code points, as the server counts
}

function enhance(textarea) {
  textarea.dataset.enhanced = "";
  const limit = Number(textarea.dataset.limit);
  const id = textarea.id || `markdown-${++made}`;
  textarea.id = id;
  const tools = document.createElement("div");
  tools.className = "markdown-tools";
  const count = Object.assign(document.createElement("span"), { className: "char-count", id: `${id}-count` });
  const toggle = Object.assign(document.createElement("button"), { type: "button", className: "link-button", textContent: "Preview" });
  toggle.setAttribute("aria-expanded", "false");
  toggle.setAttribute("aria-controls", `${id}-preview`);
  const preview = Object.assign(document.createElement("div"), { className: "note-body markdown-preview", id: `${id}-preview`, hidden: true });
  preview.setAttribute("aria-label", "Preview");
  preview.setAttribute("role", "region");
  tools.append(count, toggle);
  textarea.after(tools, preview);
  textarea.setAttribute("aria-describedby", [textarea.getAttribute("aria-describedby"), count.id].filter(Boolean).join(" "));

  const showCount = () => {
    const n = counted(textarea);
    const over = n - limit;
    count.textContent = over > 0 ? `${n.toLocaleString("en")} characters: ${over.toLocaleString("en")} over the limit of ${limit.toLocaleString("en")}` : `${n.toLocaleString("en")} / ${limit.toLocaleString("en")} characters`;
    count.classList.toggle("over", over > 0);
  };
  let shown = null; // the words the preview shows
  let timer = 0;
  const render = async () => {
    const words = textarea.value;
    if (words === shown) return;
    shown = words;
    if (!words.trim()) {
      preview.textContent = "Nothing to preview yet.";
      return;
    }
    try {
      const { html } = await api("POST", "/api/v1/preview", { markdown: words });
      if (textarea.value === words) preview.innerHTML = html; // cleaned by the server, as a saved note's
    } catch (error) {
      shown = null;
      preview.textContent = error.message;
    }
  };
  toggle.addEventListener("click", () => {
    const open = preview.hidden;
    preview.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide preview" : "Preview";
    if (open) render();
  });
  textarea.addEventListener("input", () => {
    showCount();
    clearTimeout(timer);
    if (!preview.hidden) timer = setTimeout(render, 1500); // at most one request a pause
  });
  textarea.form?.addEventListener("reset", () => setTimeout(showCount));
  showCount();
}

document.addEventListener("focusin", (event) => {
  const field = event.target;
  if (field.matches?.("textarea[data-limit]") && !("enhanced" in field.dataset)) enhance(field);
});
