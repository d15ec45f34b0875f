// Entry point of the reading page: annotation tools for signed-in readers only.
if (document.querySelector(".reading[data-can-annotate]")) {
  import("./annotate.js");
}
