// Printing a reading page with its notes (library/_tools.html, print.css).
//
// On the print version (/texts/<slug>/print, every note and reply of the lens): its Print
// button, and the browser's print dialog on arrival from the reading page (#print), once: a
// reload does not print again.
const button = document.getElementById("print-button");
if (button) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
  if (location.hash === "#print") {
    history.replaceState(history.state, "", location.pathname + location.search);
    if (document.readyState === "complete") window.print();
    else window.addEventListener("load", () => window.print(), { once: true });
  }
}

// On the reading page, whose margins list three notes each: Ctrl+P (⌘P) when a margin leaves
// notes out prints the print version instead, which has them all; not while the reader has
// words in a form, which the page would leave. Printed from the browser's menu, the page says
// on paper what it left out and where the rest is.
const printLink = document.getElementById("print-link");
const writing = () => [...document.querySelectorAll("textarea")].some((field) => field.value.trim());
if (printLink) {
  document.addEventListener("keydown", (event) => {
    if (event.key.toLowerCase() !== "p" || !(event.ctrlKey || event.metaKey)) return;
    if (event.altKey || event.shiftKey || !document.querySelector(".more-notes") || writing()) return;
    event.preventDefault();
    location.assign(printLink.href);
  });
}

// Threads closed on screen are open on paper: print.css opens them where the browser knows
// ::details-content; elsewhere they are opened for the printout and closed again after it.
if (!CSS.supports("selector(::details-content)")) {
  let opened = [];
  window.addEventListener("beforeprint", () => {
    opened = [...document.querySelectorAll("details.replies:not([open]), details.discussion:not([open])")];
    for (const details of opened) details.open = true;
  });
  window.addEventListener("afterprint", () => {
    for (const details of opened) details.open = false;
    opened = [];
  });
}
