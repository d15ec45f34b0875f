// The group page's "Copy link" button beside the invite link (templates/groups/show.html). Without
// JavaScript the button stays hidden and the link sits in a read-only field, to select and copy.
// A browser that will not let the page write to the clipboard is said to, and the link is selected
// for the reader to copy by hand.
const field = document.getElementById("invite-link");
const button = document.getElementById("copy-invite");
const status = document.getElementById("copy-status");

if (field && button && status) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    status.textContent = ""; // the same words again are news: an emptied live region says them
    try {
      if (!navigator.clipboard) throw new Error("no clipboard here");
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Link copied.";
    } catch {
      field.focus();
      field.select();
      status.textContent =
        "Your browser did not let this page copy the link. It is selected: press Ctrl+C (⌘C on a Mac) to copy it.";
    }
  });
}
