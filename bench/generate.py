"""Seeded benchmark data: every row what the services would store, inserted in bulk.

Two datasets:

* ``small``: the Carr excerpt read by one seminar group of 30 members (the text on the group's
  reading list), with 2,000 group annotations on it (highlights in the five colours, notes,
  questions, tags; valid W3C selectors) and 3,000 replies and reactions (1,500 of each).
* ``big``: the same seminar data, identical row for row (same ids), plus 50 generated texts
  carrying 100,000 annotations (private, group and public, roots and replies) by 270 more
  readers in 10 more groups: the reading page of the Carr text must not notice them.

The database is made with the real ``flask --app wsgi db upgrade`` and ``flask --app wsgi seed``
(``bench/data.py``); the rest is inserted here with SQLAlchemy Core in batches (the services
would take minutes for 100k rows), but every row is what the services store:
``annotations.create`` (selectors described by ``anchoring.describe``, ``body_html`` from
``markdown.render``, normalised tags, the author's ``last_audience``, a ``created`` event),
``discussion.reply`` (root/parent, the root's audience, a ``created`` event, reply and
@mention notifications) and ``discussion.react`` (unique per user/annotation/kind, a
``reacted`` event), and ``verify`` checks a sample against the services' own rules. Every
account has the password ``PASSWORD`` (one scrypt hash, computed once).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, func, select
from werkzeug.security import check_password_hash

from app.models import (
    Annotation,
    AnnotationTag,
    Event,
    EventKind,
    Group,
    HighlightColor,
    Membership,
    Motivation,
    Notification,
    NotificationKind,
    Paragraph,
    ParagraphRole,
    Reaction,
    ReactionKind,
    ReadingAssignment,
    Role,
    Text,
    TextRevision,
    User,
    Visibility,
)
from app.models.text import PARAGRAPH_SEPARATOR
from app.models.user import PASSWORD_METHOD
from app.services import anchoring, markdown, revision_cache
from app.services.annotations import (
    CONTEXT_CHARS,
    SpanTarget,
    audience_key,
    normalise_tag,
    normalise_tags,
    resolve_span,
)
from app.services.importer import ParsedText

ROOT = Path(__file__).resolve().parent.parent


DATA = ROOT / "bench" / ".data"


PASSWORD = "bench-password-1917"  # noqa: S105 (every generated account's, on purpose)


SECRET_KEY = "scholia-bench-secret-key"  # noqa: S105 (fixed so that sessions survive restarts)


CARR = "carr-rapprochement"


BATCH = 5_000


# Fixed, so that two runs write the same timestamps.
EPOCH = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)


COLORS = list(HighlightColor)


@dataclass(frozen=True)
class Params:
    seed: int = 1917
    members: int = 30
    annotations: int = 2_000  # on the Carr excerpt, all for the seminar group
    replies: int = 1_500
    reactions: int = 1_500
    texts: int = 50  # big only
    text_annotations: int = 100_000  # big only, over the generated texts
    readers: int = 270  # big only: accounts beyond the seminar's
    groups: int = 10  # big only: groups beyond the seminar


def verify(conn: Connection, rng: random.Random, sample: int = 3_000) -> int:
    """Check stored rows against the services' own rules; returns how many were checked.

    Every annotation on the Carr excerpt and a sample of the rest: the selectors are what
    ``resolve_span`` accepts and ``anchoring.describe`` writes, ``body_html`` is what
    ``markdown.render`` makes of ``body_source``, tags are normalised, a reply has its root's
    text, revision and audience and answers an annotation of the same thread.
    """
    a = Annotation.__table__
    carr = conn.scalar(select(Text.id).where(Text.slug == CARR))
    ids = conn.scalars(select(a.c.id).where(a.c.text_id != carr)).all()
    picked = rng.sample(list(ids), min(sample, len(ids)))
    rows = conn.execute(
        select(a).where((a.c.text_id == carr) | a.c.id.in_(picked)).order_by(a.c.id)
    ).all()
    by_id = {r.id: r for r in conn.execute(select(a).where(a.c.root_id.is_(None))).all()}
    layouts: dict[int, revision_cache.Layout] = {}
    tags: dict[int, list[str]] = {}
    for annotation_id, name in conn.execute(
        select(AnnotationTag.annotation_id, AnnotationTag.name).where(
            AnnotationTag.annotation_id.in_([r.id for r in rows])
        )
    ):
        tags.setdefault(annotation_id, []).append(name)
    for row in rows:
        problem = None
        if row.revision_id not in layouts:
            layouts[row.revision_id] = revision_cache.build(conn, row.revision_id)
        layout = layouts[row.revision_id]
        content = layout.content
        if row.start is not None:
            target = SpanTarget(row.exact, row.prefix, row.suffix, row.start, row.end)
            quote, _ = anchoring.describe(content, row.start, row.end, CONTEXT_CHARS)
            if resolve_span(layout, target) != (row.start, row.end):
                problem = "selectors do not resolve to their span"
            elif (quote.exact, quote.prefix, quote.suffix) != (row.exact, row.prefix, row.suffix):
                problem = "quote, prefix or suffix differ from anchoring.describe"
        if row.body_html != render(row.body_source):
            problem = "body_html is not markdown.render(body_source)"
        if normalise_tags(tags.get(row.id, [])) != tags.get(row.id, []):
            problem = "tags are not normalised"
        if row.root_id is not None:
            root = by_id[row.root_id]
            parent = (
                by_id.get(row.parent_id)
                or conn.execute(select(a).where(a.c.id == row.parent_id)).one()
            )
            if (root.text_id, root.revision_id, root.visibility, root.group_id) != (
                row.text_id,
                row.revision_id,
                row.visibility,
                row.group_id,
            ) or (parent.root_id or parent.id) != root.id:
                problem = "a reply is not in its root's thread or audience"
        if (row.visibility == Visibility.GROUP) != (row.group_id is not None):
            problem = "group_id is set exactly when visibility is group"
        if problem:
            raise AssertionError(f"annotation {row.id}: {problem}")
    return len(rows)


def password_hash(password: str, salt_seed: str) -> str:
    """What ``User.set_password`` stores, with a fixed salt so that two runs write the same row.

    Werkzeug's own format (``scrypt:N:r:p$salt$hex``), checked with its own verifier.
    """
    method = PASSWORD_METHOD + ":32768:8:1"
    salt = hashlib.sha256(f"bench-salt-{salt_seed}".encode()).hexdigest()[:16]
    digest = hashlib.scrypt(
        password.encode(), salt=salt.encode(), n=32768, r=8, p=1, maxmem=64 << 20
    )
    stored = f"{method}${salt}${digest.hex()}"
    if not check_password_hash(stored, password):
        raise RuntimeError("Werkzeug no longer reads this password hash format")
    return stored


@cache
def render(body: str) -> str:
    return markdown.render(body) if body.strip() else ""


class Generator:
    """Writes one dataset; ``rng`` streams are split so the seminar part is the same in both."""

    def __init__(self, conn: Connection, params: Params):
        self.conn = conn
        self.params = params
        self.next_id = {
            model: (conn.scalar(select(func.max(model.id))) or 0) + 1
            for model in (
                User, Group, Membership, ReadingAssignment, Text, TextRevision, Paragraph,
                Annotation, AnnotationTag, Reaction, Event, Notification,
            )
        }  # fmt: skip
        self.password_hash = password_hash(PASSWORD, f"{params.seed}")
        self.counts: dict[str, int] = {}
        self.last_audience: dict[int, tuple[datetime, str]] = {}
        self.names: dict[int, str] = {}
        self.emails: dict[int, str] = {}

    def new_id(self, model) -> int:
        value = self.next_id[model]
        self.next_id[model] += 1
        return value

    def insert(self, model, rows: list[dict]) -> None:
        table = model.__table__
        for i in range(0, len(rows), BATCH):
            self.conn.execute(table.insert(), rows[i : i + BATCH])
        self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)

    # -- the run -------------------------------------------------------------------------------

    def run(self) -> dict:
        p = self.params
        carr = self.load_text(CARR)
        rng = random.Random(f"{p.seed}-seminar")
        members = self.make_users(rng, p.members, "seminar", EPOCH - timedelta(days=60))
        group_id = self.make_group(rng, "Carr seminar: the Soviet rapprochement", members)
        self.assign(group_id, carr["id"], 0, "Where does Carr see continuity with war communism?")
        seminar = Thread(self, rng, carr, group_id, members)
        seminar.roots(p.annotations, Visibility.GROUP)
        seminar.replies(p.replies)
        seminar.reactions(p.reactions)
        seminar.store()
        viewer = members[4]  # an ordinary member (the first two run the seminar)
        if p.texts:
            self.other_texts(random.Random(f"{p.seed}-library"), members)
        self.store_last_audience()
        return {
            "params": asdict(p),
            "password": PASSWORD,
            "secret_key": SECRET_KEY,
            "text": CARR,
            "text_id": carr["id"],
            "group_id": group_id,
            "viewer": {"id": viewer, "email": self.email(viewer)},
            "members": [self.email(m) for m in members],  # bench/live.py's readers
            "group_roots": p.annotations,
            "counts": dict(sorted(self.counts.items())),
        }

    # -- texts ---------------------------------------------------------------------------------

    def load_text(self, slug: str) -> dict:
        row = self.conn.execute(
            select(Text.id, Text.current_revision_id).where(Text.slug == slug)
        ).one()
        bodies = self.conn.scalars(
            select(Paragraph.body)
            .where(Paragraph.revision_id == row.current_revision_id)
            .order_by(Paragraph.number)
        ).all()
        return self.describe_text(row.id, row.current_revision_id, list(bodies))

    @staticmethod
    def describe_text(text_id: int, revision_id: int, bodies: list[str]) -> dict:
        spans, start = [], 0
        for body in bodies:
            words = [(m.start() + start, m.end() + start) for m in re.finditer(r"\S+", body)]
            spans.append({"start": start, "end": start + len(body), "words": words})
            start += len(body) + len(PARAGRAPH_SEPARATOR)
        return {
            "id": text_id,
            "revision_id": revision_id,
            "content": PARAGRAPH_SEPARATOR.join(bodies),
            "spans": spans,
        }

    def make_text(self, rng: random.Random, number: int) -> dict:
        title = prose_title(rng)
        author = person_name(rng)
        bodies = [paragraph(rng) for _ in range(rng.randint(20, 40))]
        citation = f"Source: {author}, {title} (Bench Press, {rng.randint(1900, 2020)})."
        bodies.append(citation)
        roles = [ParagraphRole.BODY] * (len(bodies) - 1) + [ParagraphRole.CITATION]
        slug = f"bench-text-{number:02d}"
        parsed = ParsedText(title, author, "", slug, list(zip(roles, bodies, strict=True)))
        text_id, revision_id = self.new_id(Text), self.new_id(TextRevision)
        created = EPOCH - timedelta(days=90, minutes=number)
        self.insert(
            Text,
            [
                {
                    "id": text_id, "slug": slug, "title": title, "author": author,
                    "citation": "", "source_name": f"{slug}.txt", "created_at": created,
                    "current_revision_id": None,
                }
            ],
        )  # fmt: skip
        self.insert(
            TextRevision,
            [
                {
                    "id": revision_id, "text_id": text_id, "number": 1,
                    "content_hash": parsed.content_hash(), "created_at": created,
                }
            ],
        )  # fmt: skip
        self.insert(
            Paragraph,
            [
                {
                    "id": self.new_id(Paragraph), "revision_id": revision_id, "number": n,
                    "role": role, "body": body,
                }
                for n, (role, body) in enumerate(parsed.paragraphs, 1)
            ],
        )  # fmt: skip
        self.conn.execute(
            Text.__table__.update()
            .where(Text.__table__.c.id == text_id)
            .values(current_revision_id=revision_id)
        )
        return self.describe_text(text_id, revision_id, bodies)

    # -- people and groups ---------------------------------------------------------------------

    def email(self, user_id: int) -> str:
        return self.emails[user_id]

    def make_users(self, rng: random.Random, n: int, label: str, since: datetime) -> list[int]:
        rows, ids = [], []
        taken = set(self.names.values())
        for i in range(1, n + 1):
            name = person_name(rng)
            while name in taken:
                name = person_name(rng)
            taken.add(name)
            user_id = self.new_id(User)
            email = f"{label}-{i:03d}@example.org"
            self.emails[user_id] = email
            self.names[user_id] = name
            rows.append(
                {
                    "id": user_id, "email": email, "display_name": name,
                    "password_hash": self.password_hash, "is_admin": False,
                    "is_disabled": False, "last_audience": "private",
                    "created_at": since + timedelta(minutes=i),
                }
            )  # fmt: skip
            ids.append(user_id)
        self.insert(User, rows)
        return ids

    def make_group(self, rng: random.Random, name: str, members: list[int]) -> int:
        group_id = self.new_id(Group)
        created = EPOCH - timedelta(days=30)
        self.insert(
            Group,
            [
                {
                    "id": group_id, "name": name,
                    "description": "Reading together, one paragraph at a time.",
                    "invite_code": rng.randbytes(18).hex(), "created_at": created,
                }
            ],
        )  # fmt: skip
        roles = [Role.OWNER, Role.INSTRUCTOR] + [Role.MEMBER] * (len(members) - 2)
        self.insert(
            Membership,
            [
                {
                    "id": self.new_id(Membership), "group_id": group_id, "user_id": user_id,
                    "role": role, "joined_at": created + timedelta(hours=i),
                }
                for i, (user_id, role) in enumerate(zip(members, roles, strict=True))
            ],
        )  # fmt: skip
        return group_id

    def assign(self, group_id: int, text_id: int, position: int, prompt: str) -> None:
        self.insert(
            ReadingAssignment,
            [
                {
                    "id": self.new_id(ReadingAssignment), "group_id": group_id,
                    "text_id": text_id, "position": position,
                    "due_on": date(2025, 10, 1) + timedelta(days=7 * position),
                    "prompt": prompt, "created_at": EPOCH - timedelta(days=29),
                }
            ],
        )  # fmt: skip

    def store_last_audience(self) -> None:
        """``create`` remembers each author's last audience; most recent annotation wins."""
        table = User.__table__
        for user_id, (_, key) in self.last_audience.items():
            self.conn.execute(table.update().where(table.c.id == user_id).values(last_audience=key))

    def other_texts(self, rng: random.Random, seminar: list[int]) -> None:
        p = self.params
        readers = self.make_users(rng, p.readers, "reader", EPOCH - timedelta(days=80))
        texts = [self.make_text(rng, n) for n in range(1, p.texts + 1)]
        groups: list[tuple[int, list[int]]] = []
        for g in range(p.groups):
            members = rng.sample(readers, 20) + rng.sample(seminar[10:], 1)
            members = list(dict.fromkeys(members))
            group_id = self.make_group(rng, f"Reading group {g + 1}", members)
            for position, t in enumerate(rng.sample(texts, 5)):
                self.assign(group_id, t["id"], position, "")
                t.setdefault("groups", []).append((group_id, members))
            groups.append((group_id, members))
        # Uneven, as libraries are: a few texts carry most of the notes.
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(texts))]
        rng.shuffle(weights)
        total = sum(weights)
        shares = [int(p.text_annotations * w / total) for w in weights]
        shares[0] += p.text_annotations - sum(shares)
        everyone = readers + seminar
        for t, share in zip(texts, shares, strict=True):
            # Earlier in the year than the seminar: every member's last audience is the group.
            groups = t.get("groups", [])
            thread = Thread(self, rng, t, None, everyone, groups, EPOCH - timedelta(days=120))
            replies = share // 10
            thread.roots(share - replies, None)
            thread.replies(replies, mentions=False)
            thread.store()


class Thread:
    """The annotations, replies and reactions on one text, kept in time order, then stored."""

    def __init__(
        self,
        gen: Generator,
        rng: random.Random,
        text_info: dict,
        group_id: int | None,
        authors: list[int],
        text_groups: list[tuple[int, list[int]]] | None = None,
        since: datetime = EPOCH,
    ):
        self.gen, self.rng, self.text = gen, rng, text_info
        self.group_id, self.authors = group_id, authors
        self.text_groups = text_groups or []
        self.since = since
        # A few readers write most: a power law over the author list.
        self.author_weights = [1 / (i + 1) ** 0.6 for i in range(len(authors))]
        self.notes: list[dict] = []  # roots and replies, before ids are given
        self.reaction_rows: list[dict] = []
        self.tags: dict[int, list[str]] = {}

    # -- what people write ---------------------------------------------------------------------

    def author(self, among: list[int] | None = None) -> int:
        if among is not None:
            return self.rng.choice(among)
        return self.rng.choices(self.authors, self.author_weights)[0]

    def span(self) -> tuple[int, int]:
        spans = self.text["spans"]
        para = self.rng.choices(spans, [len(s["words"]) for s in spans])[0]
        words = para["words"]
        if self.rng.random() < 0.03:  # "Note on ¶N": the whole paragraph
            return para["start"], para["end"]
        length = min(len(words), max(1, int(self.rng.expovariate(1 / 6)) + 1))
        first = self.rng.randrange(0, len(words) - length + 1)
        return words[first][0], words[first + length - 1][1]

    def roots(self, n: int, visibility: Visibility | None) -> None:
        days = 30 * 24 * 3600
        for _ in range(n):
            audience, group_id, among = self.audience(visibility)
            roll = self.rng.random()
            motivation = (
                Motivation.HIGHLIGHTING
                if roll < 0.45
                else Motivation.QUESTIONING
                if roll < 0.55
                else Motivation.COMMENTING
            )
            if motivation is Motivation.HIGHLIGHTING:
                body, color = "", self.rng.choice(COLORS)
                tags = self.some_tags(0.2)
            else:
                body = note_body(self.rng, question=motivation is Motivation.QUESTIONING)
                color = self.rng.choice(COLORS) if self.rng.random() < 0.3 else None
                tags = self.some_tags(0.6)
            whole_text = motivation is not Motivation.HIGHLIGHTING and self.rng.random() < 0.01
            start, end = (None, None) if whole_text else self.span()
            self.notes.append(
                {
                    "user_id": self.author(among),
                    "at": self.since + timedelta(seconds=self.rng.randrange(days)),
                    "motivation": motivation,
                    "visibility": audience,
                    "group_id": group_id,
                    "color": color,
                    "body": body,
                    "tags": tags,
                    "start": start,
                    "end": end,
                    "parent": None,
                }
            )

    def audience(self, visibility: Visibility | None) -> tuple[Visibility, int | None, list | None]:
        if visibility is Visibility.GROUP:
            return Visibility.GROUP, self.group_id, None
        roll = self.rng.random()
        if roll < 0.35 and self.text_groups:
            group_id, members = self.rng.choice(self.text_groups)
            return Visibility.GROUP, group_id, members
        if roll < 0.6:
            return Visibility.PUBLIC, None, None
        return Visibility.PRIVATE, None, None

    def some_tags(self, chance: float) -> list[str]:
        if self.rng.random() >= chance:
            return []
        names = [normalise_tag(t) for t in self.rng.sample(TAGS, self.rng.randint(1, 3))]
        if self.rng.random() < 0.3:
            names.append(f"topic-{self.rng.randrange(600):03d}")
        return list(dict.fromkeys(names))

    def replies(self, n: int, mentions: bool = True) -> None:
        """Answers to notes (not bare highlights), a third of them to an earlier reply."""
        roots = [r for r in self.notes if r["body"] and r["visibility"] is not Visibility.PRIVATE]
        if not roots:
            return
        weights = [1 / (i + 1) ** 0.5 for i in range(len(roots))]
        threads: dict[int, list[dict]] = {}
        for _ in range(n):
            root = self.rng.choices(roots, weights)[0]
            thread = threads.setdefault(id(root), [root])
            parent = self.rng.choice(thread) if self.rng.random() < 0.35 else root
            among = None
            if root["visibility"] is Visibility.GROUP and self.group_id is None:
                among = dict(self.text_groups)[root["group_id"]]
            user_id = self.author(among)
            body = note_body(self.rng, question=False, short=True)
            if mentions and self.rng.random() < 0.15:
                body = f"@{self.gen.names[parent['user_id']]} {body}"
            answer = {
                "user_id": user_id,
                "at": parent["at"] + timedelta(seconds=self.rng.randrange(300, 3 * 86400)),
                "motivation": Motivation.REPLYING,
                "visibility": root["visibility"],
                "group_id": root["group_id"],
                "color": None,
                "body": body,
                "tags": [],
                "start": None,
                "end": None,
                "parent": parent,
                "root": root,
            }
            thread.append(answer)
            self.notes.append(answer)

    def reactions(self, n: int) -> None:
        seen = set()
        candidates = [a for a in self.notes if a["visibility"] is Visibility.GROUP]
        while len(self.reaction_rows) < n:
            annotation = self.rng.choice(candidates)
            user_id = self.rng.choice(self.authors)
            kind = ReactionKind.AGREE if self.rng.random() < 0.7 else ReactionKind.QUESTION
            if (id(annotation), user_id, kind) in seen:
                continue
            seen.add((id(annotation), user_id, kind))
            at = annotation["at"] + timedelta(seconds=self.rng.randrange(60, 5 * 86400))
            self.reaction_rows.append(
                {"annotation": annotation, "user_id": user_id, "kind": kind, "at": at}
            )

    # -- storing -------------------------------------------------------------------------------

    def store(self) -> None:
        gen, text_info = self.gen, self.text
        content = text_info["content"]
        # Ids follow time, as they would have been handed out.
        self.notes.sort(key=lambda a: a["at"])
        rows, tag_rows, events, notifications = [], [], [], []
        for note in self.notes:
            note["id"] = gen.new_id(Annotation)
        for note in self.notes:
            row = {
                "id": note["id"],
                "user_id": note["user_id"],
                "text_id": text_info["id"],
                "revision_id": text_info["revision_id"],
                "motivation": note["motivation"],
                "visibility": note["visibility"],
                "group_id": note["group_id"],
                "parent_id": note["parent"]["id"] if note["parent"] else None,
                "root_id": note["root"]["id"] if note["parent"] else None,
                "is_discussion": False,
                "hidden_at": None,
                "hidden_by_id": None,
                "color": note["color"],
                "exact": None,
                "prefix": "",
                "suffix": "",
                "start": None,
                "end": None,
                "body_source": note["body"],
                "body_html": render(note["body"]),
                "created_at": note["at"],
                "updated_at": note["at"],
                "deleted_at": None,
            }
            if note["start"] is not None:
                quote, _ = anchoring.describe(content, note["start"], note["end"], CONTEXT_CHARS)
                row.update(
                    exact=quote.exact,
                    prefix=quote.prefix,
                    suffix=quote.suffix,
                    start=note["start"],
                    end=note["end"],
                )
            rows.append(row)
            tag_rows.extend(
                {"id": gen.new_id(AnnotationTag), "annotation_id": note["id"], "name": tag}
                for tag in note["tags"]
            )
            events.append((note["at"], note, EventKind.CREATED))
            if note["parent"] is None:
                latest = gen.last_audience.get(note["user_id"])
                if latest is None or latest[0] <= note["at"]:
                    key = audience_key(note["visibility"], note["group_id"])
                    gen.last_audience[note["user_id"]] = (note["at"], key)
            else:
                notifications.extend(self.notify(note))
        reaction_rows = []
        for reaction in sorted(self.reaction_rows, key=lambda r: r["at"]):
            reaction_rows.append(
                {
                    "id": gen.new_id(Reaction),
                    "annotation_id": reaction["annotation"]["id"],
                    "user_id": reaction["user_id"],
                    "kind": reaction["kind"],
                    "created_at": reaction["at"],
                }
            )
            events.append((reaction["at"], reaction["annotation"], EventKind.REACTED))
        events.sort(key=lambda e: e[0])
        event_rows = [
            {
                "id": gen.new_id(Event),
                "text_id": text_info["id"],
                "annotation_id": note["id"],
                "kind": kind,
                "author_id": note["user_id"],
                "visibility": note["visibility"],
                "group_id": note["group_id"],
                "created_at": at,
            }
            for at, note, kind in events
        ]
        notifications.sort(key=lambda n: n["created_at"])
        for notification in notifications:
            notification["id"] = gen.new_id(Notification)
        gen.insert(Annotation, rows)
        gen.insert(AnnotationTag, tag_rows)
        gen.insert(Reaction, reaction_rows)
        gen.insert(Event, event_rows)
        gen.insert(Notification, notifications)

    def notify(self, answer: dict) -> Iterable[dict]:
        """As ``notifications.notify``: the parent's author, then members @mentioned in group
        replies."""
        notified = {answer["user_id"]}
        parent = answer["parent"]
        out = []

        def add(user_id: int, kind: NotificationKind) -> None:
            read = self.rng.random() < 0.7
            out.append(
                {
                    "user_id": user_id,
                    "annotation_id": answer["id"],
                    "kind": kind,
                    "created_at": answer["at"],
                    "read_at": answer["at"] + timedelta(hours=self.rng.randint(1, 48))
                    if read
                    else None,
                }
            )
            notified.add(user_id)

        if parent["user_id"] not in notified:
            add(parent["user_id"], NotificationKind.REPLY)
        if answer["visibility"] is Visibility.GROUP and "@" in answer["body"]:
            mentioned = answer["body"][1:].split(" ", 2)
            name = " ".join(mentioned[:2])
            for user_id in self.authors:
                if self.gen.names[user_id] == name and user_id not in notified:
                    add(user_id, NotificationKind.MENTION)
        return out


def _words(line: str) -> list[str]:
    return line.split()


FIRST = _words(
    "Ada Boris Chiara Dmitri Elif Fatima Gustav Hana Ines Jonas Kofi Lena Mateo Nadia Oskar "
    "Priya Quentin Rosa Sami Tamar Ugo Vera Wanjiru Xavier Yusuf Zofia Anouk Bruno Celeste Dario"
)


LAST = _words(
    "Okafor Lindqvist Moreau Petrov Yilmaz Haddad Brandt Tanaka Ferreira Kowalski Mensah Novak "
    "Alvarez Rahman Schulz Costa Ivanova Dubois Nakamura Osei Rossi Sato Weber Zhang Kaur Byrne"
)


WORDS = _words(
    "the of and to in a that was it for on as with by at from this which be were or an not "
    "had their but they have more all one its been would there so no when who what about than "
    "government policy trade treaty party power state revolution peasants workers capital "
    "delegation congress agreement concessions industry grain credit market exchange "
    "negotiations frontier ministry council committee republic foreign economic political "
    "recognition relations western commercial military army prisoners cooperatives envoy "
    "question moment years months weeks spring summer winter conference declaration "
    "difficulty opportunity necessity interest influence strength weakness principle practice "
    "began continued remained became seemed appeared proved allowed required offered refused "
    "accepted signed opened closed secured demanded promised feared hoped argued insisted "
    "slowly quickly openly quietly firmly cautiously eventually immediately reluctantly "
    "important difficult possible necessary useful dangerous early late new old great small "
    "café résumé naïve Zürich — “so-called” ‘détente’"
)


TAGS = _words(
    "NEP trade diplomacy Germany Rapallo Lenin Krasin war-communism Estonia Reichswehr "
    "capitalism revolution Britain treaty question key-passage context historiography "
    "essay exam Comintern concessions"
)


COMMENTS = [
    "This is where the argument turns",
    "Compare the tone here with the opening paragraph",
    "Carr sounds almost approving",
    "The dates matter: this is before the famine",
    "I read this as a concession, not a strategy",
    "Worth setting beside the Treaty of Rapallo",
    "Who benefits from this arrangement",
    "The source for this claim is not given",
    "A striking choice of word",
    "This contradicts what we read last week",
    "The phrase is ironic, surely",
    "Useful for the essay on foreign policy",
    "Notice the passive voice",
    "How far is this hindsight",
    "Good evidence for continuity",
    "The economic motive is explicit here",
]


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def sentence(rng: random.Random, low: int = 8, high: int = 24) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    for i in range(2, len(words) - 2):
        if rng.random() < 0.06:
            words[i] += ","
    return words[0][:1].upper() + words[0][1:] + " " + " ".join(words[1:]) + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(3, 8)))


def prose_title(rng: random.Random) -> str:
    return " ".join(w.capitalize() for w in rng.choices(WORDS[60:200], k=rng.randint(2, 5)))


def note_body(rng: random.Random, question: bool, short: bool = False) -> str:
    parts = [rng.choice(COMMENTS) + ("?" if question else ".")]
    if not short or rng.random() < 0.3:
        parts += [sentence(rng, 5, 14) for _ in range(rng.randint(0, 2))]
    body = " ".join(parts)
    style = rng.random()
    if style < 0.15:
        word = rng.choice(WORDS[60:200])
        body = body.replace(" ", f" *{word}* ", 1)
    elif style < 0.25:
        body += f" See [the notes](https://example.org/notes/{rng.randrange(100)})."
    elif style < 0.32:
        body += "\n\n- " + sentence(rng, 3, 8) + "\n- " + sentence(rng, 3, 8)
    elif style < 0.37:
        body = "> " + sentence(rng, 4, 10) + "\n\n" + body
    elif style < 0.42:
        body += f" **{rng.choice(TAGS)}** matters: `{rng.choice(WORDS)}`."
    return body
