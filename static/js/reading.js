// Entry point of the reading page: live updates and the margin for everyone (read.html adds
// annotate.js, the annotation tools, for a signed-in reader). Static imports: every module has
// run before DOMContentLoaded, so nothing a reader clicks reaches the page unhandled.
import "./live.js";
import "./margin.js";
import "./print.js";
