// Entry point of the reading page: live updates for everyone, annotation tools when signed in.
import("./live.js");
if (document.querySelector(".reading[data-can-annotate]")) {
  import("./annotate.js");
}
