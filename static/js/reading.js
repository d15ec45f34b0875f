// Entry point of the reading page: live updates and the margin for everyone, annotation tools
// when signed in.
import("./live.js");
import("./margin.js");
if (document.querySelector(".reading[data-can-annotate]")) {
  import("./annotate.js");
}
