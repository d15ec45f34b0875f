// Live updates: follow the text's change log from the cursor the page was rendered at. Each
// poll asks the page's own feed (/texts/<slug>/events with the page's query): the events the
// reader may know of, and the parts they changed as this page shows them, in one answer.
// Polling is stateless (any worker on any server answers); after a dropped connection the
// next poll asks again from the same cursor, so nothing is missed.
import { onRefresh, refresh } from "./page.js";

const reading = document.querySelector(".reading");
const slug = document.querySelector('meta[name="text-slug"]').content;
const INTERVAL = Number(reading.dataset.pollMs) || 2500; // SCHOLIA_LIVE_POLL_MS
const MAX_BACKOFF = 30000;
let cursor = reading.dataset.cursor;
let delay = INTERVAL;

const status = document.createElement("div");
status.className = "visually-hidden";
status.id = "live-status";
status.setAttribute("role", "status");
document.body.append(status);

// Notes and replies others posted since the page opened (id -> its parts): marked "New" where
// they show, and counted on "Show N more" where the margin leaves them out, until the page is
// loaded again. The reader's own are not news.
const fresh = new Map();

function markNew() {
  const hidden = new Map();
  for (const [id, parts] of fresh) {
    const card = document.getElementById(`a${id}`);
    if (card) {
      card.classList.add("note-new");
      card.closest("details.replies")?.classList.add("has-new");
    } else {
      for (const part of parts) hidden.set(part, (hidden.get(part) ?? 0) + 1);
    }
  }
  for (const [part, count] of hidden) {
    const link = document.querySelector(`${part === 0 ? "#part-0" : `#p${part}`} .more-notes-link`);
    if (!link) continue;
    let badge = link.querySelector(".new-count");
    if (!badge) {
      badge = document.createElement("span");
      badge.className = "new-count";
      link.append(badge);
    }
    badge.textContent = ` (${count} new)`;
  }
}
onRefresh(markNew);

async function poll() {
  try {
    const query = location.search; // the page's, as the parts will be rendered for it
    const feed = new URL(`/texts/${encodeURIComponent(slug)}/events${query}`, location.href);
    feed.searchParams.set("after", cursor);
    const response = await fetch(feed, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    cursor = data.cursor;
    delay = INTERVAL;
    // The server rendered the parts in another lens (the reader left the group, say): the page
    // around them is wrong too, so it is loaded again, in the lens they may use now.
    if (data.lens && data.lens !== reading.dataset.lens) {
      location.reload();
      return;
    }
    if (data.events.length) {
      // The parts the changes touched, as this page shows them; an event naming none (from
      // before parts) asks for the page.
      const parts = new Map(Object.entries(data.parts ?? {}).map(([n, html]) => [Number(n), html]));
      // The text itself changed (an accepted correction): every paragraph after it moved, so
      // the whole page comes again, on the new revision.
      const revised = data.revision && String(data.revision) !== reading.dataset.revision;
      if (revised) reading.dataset.revision = data.revision;
      const whole = revised || data.events.some((e) => !e.parts?.length);
      // Known as new before the swap: marked as the parts go in, before the page keeps the
      // reader's place (a mark added after it would move what they read).
      const created = data.events.filter((e) => e.kind === "created" && !e.yours);
      for (const event of created) fresh.set(event.annotation, event.parts ?? []);
      await refresh(whole ? undefined : parts, query);
      const n = created.length;
      if (n) status.textContent = `${n} new ${n === 1 ? "note or reply" : "notes or replies"}.`;
      else if (revised) status.textContent = "The text was corrected: a new revision is shown.";
    }
    // The change log position the page now holds everything up to (what it may show of it).
    document.documentElement.dataset.caughtUp = cursor;
  } catch {
    delay = Math.min(delay * 2, MAX_BACKOFF); // the server or network is down: try again later
  }
  setTimeout(poll, document.hidden ? Math.max(delay, 10000) : delay);
}

if (cursor !== undefined) setTimeout(poll, INTERVAL);
