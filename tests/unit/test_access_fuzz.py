"""Authorisation fuzzing: random actions by random users in random groups, checked against a
model of the rules written independently of the code under test.

Membership changes over time (join, leave, removal by the owner, accounts disabled and enabled),
threads move between audiences, instructors hide, unhide and remove, authors edit and delete:
every write must succeed exactly when the model says it may, and after every step, for every
user, every read path (the policy query, can(), the words-readable query, the reading page in
each lens, the notebook, the inbox, the live feed and single look-ups) must show exactly the
annotations the model allows, and never one it denies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select, update

from app.models import (
    Annotation,
    AnnotationVersion,
    Event,
    Flag,
    Group,
    IdempotencyKey,
    Notification,
    Reaction,
    Text,
    User,
    Visibility,
)
from app.services import (
    annotations,
    discussion,
    groups,
    live,
    moderation,
    notifications,
    search,
    texts,
)
from app.services.access import ANONYMOUS, Action, can, readable_by, viewer_for, visible_to
from app.services.annotations import Changes, NotebookFilter
from app.services.errors import Refused
from tests import factories

NAMES = ["ann", "ben", "cat", "eve"]  # eve is a site admin
QUOTES = ["Krasin", "Arcos"]
# Who acts on a note: anyone, and as often its author (the interesting cases are theirs).
ACTOR = st.sampled_from(["author", "author", *NAMES])


@dataclass
class Note:
    author: str
    visibility: Visibility
    group: int | None
    root: int | None = None
    parent: int | None = None
    deleted: bool = False
    # (moderator, removal) when a moderator removed it: only moderators undo that, and an undo
    # brings back what that one removal took along
    removed_by: tuple[str, int] | None = None
    hidden_by: str | None = None


@dataclass
class Model:
    """The rules, restated plainly: who may see and do what."""

    members: dict[int, set[str]] = field(default_factory=dict)
    owners: dict[int, str] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)
    notes: dict[int, Note] = field(default_factory=dict)

    def active(self, who: str | None) -> str | None:
        return None if who in self.disabled else who

    def sees(self, who: str | None, note_id: int) -> bool:
        note = self.notes[note_id]
        who = self.active(who)
        if note.deleted:
            return False
        if who is not None and note.author == who:
            return True
        if note.visibility is Visibility.PUBLIC:
            return True
        if note.visibility is Visibility.GROUP:
            return who is not None and (who in self.members[note.group] or who == "eve")
        return False

    def moderates(self, who: str | None, note: Note) -> bool:
        who = self.active(who)
        if who is None or note.visibility is Visibility.PRIVATE:
            return False
        return who == "eve" or (
            note.visibility is Visibility.GROUP and self.owners.get(note.group) == who
        )

    def reads_words(self, who: str | None, note_id: int) -> bool:
        note = self.notes[note_id]
        return self.sees(who, note_id) and (
            note.hidden_by is None or note.author == self.active(who) or self.moderates(who, note)
        )

    def writes_in(self, who: str, note: Note) -> bool:
        return (
            note.visibility is not Visibility.GROUP
            or who in self.members[note.group]
            or (who == "eve")
        )

    def may_edit(self, who: str, note_id: int) -> bool:
        note = self.notes[note_id]
        return (
            self.sees(who, note_id)
            and self.active(who) == note.author
            and self.writes_in(who, note)
        )

    def may_reply(self, who: str, note_id: int) -> bool:
        note = self.notes[note_id]
        if self.active(who) is None or not self.sees(who, note_id) or note.hidden_by:
            return False
        if note.visibility is Visibility.GROUP:
            return who in self.members[note.group]
        return note.visibility is Visibility.PUBLIC or note.author == who

    def thread(self, root_id: int) -> list[int]:
        return [root_id, *(i for i, n in self.notes.items() if n.root == root_id)]

    def beneath(self, note_id: int) -> list[int]:
        note = self.notes[note_id]
        if note.root is None:
            return [i for i in self.thread(note_id) if i != note_id]
        found, stack = [], [note_id]
        while stack:
            parent = stack.pop()
            for i, n in self.notes.items():
                if n.parent == parent:
                    found.append(i)
                    stack.append(i)
        return found

    def under_a_removal(self, note_id: int) -> bool:
        """Does a moderator keep something this answers removed?"""
        parent = self.notes[note_id].parent
        while parent is not None:
            if self.notes[parent].deleted and self.notes[parent].removed_by is not None:
                return True
            parent = self.notes[parent].parent
        return False

    def may_move(self, who: str, note_id: int, visibility: Visibility, group: int | None) -> bool:
        note = self.notes[note_id]
        if not self.may_edit(who, note_id) or note.root is not None or note.hidden_by:
            return False
        if visibility is Visibility.GROUP and (group is None or who not in self.members[group]):
            return False
        if (note.visibility, note.group) == (visibility, group):
            return True
        thread = [self.notes[i] for i in self.thread(note_id)]
        return all(n.author == note.author and n.hidden_by is None for n in thread)


class AccessMachine(RuleBasedStateMachine):
    note_ids = Bundle("notes")
    group_ids = Bundle("groups")

    def __init__(self, session, users, text):
        super().__init__()
        self.session, self.users, self.text = session, users, text
        for table in (Notification, Event, Reaction, IdempotencyKey, Flag, AnnotationVersion):
            session.execute(delete(table))
        session.execute(update(Annotation).values(root_id=None, parent_id=None))
        session.execute(delete(Annotation))
        session.execute(delete(Group))
        session.execute(update(User).values(is_disabled=False))
        session.commit()
        # The rows went behind the session's back: forget its objects (SQLite reuses the ids).
        ids = {name: user.id for name, user in users.items()}
        text_id = text.id
        session.expunge_all()
        self.users = {name: session.get(User, user_id) for name, user_id in ids.items()}
        self.text = session.get(Text, text_id)
        self.model = Model()
        self.removals = 0
        self.steps = 0

    def _actor(self, who: str, note: int) -> str:
        return self.model.notes[note].author if who == "author" else who

    def viewer(self, name: str | None):
        return viewer_for(self.session, self.users[name]) if name else ANONYMOUS

    def _try(self, action):
        try:
            result = action()
            self.session.commit()
            return result if result is not None else True
        except Refused:
            self.session.rollback()
            return None

    # ---- groups and accounts, changing over time

    @initialize(target=group_ids)
    def a_seminar(self):
        """Ann's seminar with Ben and Cat in it: the interesting steps (a member's note, then
        their removal, then what they try) start from here rather than from nothing."""
        group = groups.create(self.session, self.viewer("ann"), "Seminar")
        self.session.commit()
        for member in ("ben", "cat"):
            groups.join(self.session, self.viewer(member), group.invite_code)
        self.session.commit()
        self.model.members[group.id] = {"ann", "ben", "cat"}
        self.model.owners[group.id] = "ann"
        return group.id

    @rule(target=group_ids, owner=st.sampled_from(NAMES))
    def create_group(self, owner):
        group = self._try(lambda: groups.create(self.session, self.viewer(owner), f"G {owner}"))
        if group is None:  # a disabled owner cannot
            assert owner in self.model.disabled
            return -1
        self.model.members[group.id] = {owner}
        self.model.owners[group.id] = owner
        return group.id

    @rule(who=st.sampled_from(NAMES), group=group_ids)
    def join(self, who, group):
        if group < 0:
            return
        code = self.session.scalar(select(Group.invite_code).where(Group.id == group))
        if self._try(lambda: groups.join(self.session, self.viewer(who), code)):
            self.model.members[group].add(who)

    @rule(who=st.sampled_from(NAMES), group=group_ids)
    def leave(self, who, group):
        if group < 0:
            return
        if self._try(lambda: groups.leave(self.session, self.viewer(who), group)):
            self.model.members[group].discard(who)

    @rule(who=st.sampled_from(NAMES), group=group_ids)
    def owner_removes(self, who, group):
        if group < 0:
            return
        owner = self.model.owners[group]
        done = self._try(
            lambda: groups.remove_member(
                self.session, self.viewer(owner), group, self.users[who].id
            )
        )
        expected = owner not in self.model.disabled and who in self.model.members[group]
        assert bool(done) is (expected and who != owner), (owner, who)
        if done:
            self.model.members[group].discard(who)

    @rule(note=note_ids, removed=st.booleans())
    def author_leaves(self, note, removed):
        """The author of a group note leaves its group, or its owner removes them."""
        if note < 0 or self.model.notes[note].group is None:
            return
        entry = self.model.notes[note]
        if removed:
            self.owner_removes(entry.author, entry.group)
        else:
            self.leave(entry.author, entry.group)

    @rule(who=st.sampled_from(NAMES), on=st.booleans())
    def disable(self, who, on):
        self.users[who].is_disabled = on
        self.session.commit()
        (self.model.disabled.add if on else self.model.disabled.discard)(who)

    # ---- writing

    @rule(
        target=note_ids,
        who=st.sampled_from(NAMES),
        # Mostly group notes: their audience changes under them as members come and go.
        audience=st.sampled_from([Visibility.GROUP, *Visibility]),
        group=group_ids,
        quote=st.sampled_from([*QUOTES, None]),
    )
    def annotate(self, who, audience, group, quote):
        group_id = group if audience is Visibility.GROUP else None
        draft = annotations.Draft(
            text_slug=self.text.slug,
            body=f"{who} on {quote}",
            target=annotations.SpanTarget(exact=quote) if quote else None,
            visibility=audience,
            group_id=group_id,
        )
        note = self._try(lambda: annotations.create(self.session, self.viewer(who), draft))
        if note is None:
            return -1
        self.model.notes[note.id] = Note(who, audience, group_id)
        return note.id

    @rule(target=note_ids, who=st.sampled_from(["someone else", *NAMES]), parent=note_ids)
    def reply(self, who, parent):
        if parent < 0:
            return -1
        if who == "someone else":  # a member of the thread's audience who is not its author
            note = self.model.notes[parent]
            others = sorted(self.model.members.get(note.group, set(NAMES)) - {note.author})
            who = others[0] if others else "eve"
        expected = self.model.may_reply(who, parent)
        answer = self._try(
            lambda: discussion.reply(self.session, self.viewer(who), parent, f"{who} replies")
        )
        assert (answer is not None) is expected, (who, parent)
        if answer is None:
            return -1
        root = self.model.notes[parent].root or parent
        top = self.model.notes[root]
        self.model.notes[answer.id] = Note(who, top.visibility, top.group, root, parent)
        return answer.id

    @rule(who=ACTOR, note=note_ids)
    def edit(self, who, note):
        if note < 0:
            return
        who = self._actor(who, note)
        expected = self.model.may_edit(who, note)
        done = self._try(
            lambda: annotations.edit(
                self.session, self.viewer(who), note, Changes(body=f"{who} edited")
            )
        )
        assert bool(done) is expected, (who, note)

    @rule(who=ACTOR, note=note_ids, choice=st.integers(min_value=0, max_value=7))
    def change_audience(self, who, note, choice):
        """Move a thread to one of the audiences there are: private, public, the mover's own
        groups first, then groups the mover is not in."""
        if note < 0:
            return
        who = self._actor(who, note)
        mine = sorted(g for g, members in self.model.members.items() if who in members)
        others = sorted(g for g in self.model.members if g not in mine)
        audiences = [(Visibility.PRIVATE, None), (Visibility.PUBLIC, None)]
        audiences += [(Visibility.GROUP, g) for g in [*mine, *others]]
        audience, group_id = audiences[choice % len(audiences)]
        expected = self.model.may_move(who, note, audience, group_id)
        done = self._try(
            lambda: annotations.set_visibility(
                self.session, self.viewer(who), note, audience, group_id
            )
        )
        assert bool(done) is expected, (who, note, audience, group_id)
        if done:
            for entry_id in self.model.thread(note):
                entry = self.model.notes[entry_id]
                entry.visibility, entry.group = audience, group_id

    @rule(who=ACTOR, note=note_ids)
    def delete(self, who, note):
        if note < 0:
            return
        who = self._actor(who, note)
        entry = self.model.notes[note]
        own = self.model.may_edit(who, note)
        removes = not own and self.model.sees(who, note) and self.model.moderates(who, entry)
        done = self._try(lambda: annotations.delete(self.session, self.viewer(who), note))
        assert bool(done) is (own or removes), (who, note)
        if own:
            entry.deleted = True
        elif removes:
            self.removals += 1
            for each in [note, *self.model.beneath(note)]:
                if not self.model.notes[each].deleted:
                    self.model.notes[each].deleted = True
                    self.model.notes[each].removed_by = (who, self.removals)

    @rule(who=ACTOR, note=note_ids)
    def restore(self, who, note):
        if note < 0:
            return
        who = self._actor(who, note)
        entry = self.model.notes[note]
        if entry.removed_by is not None:
            expected = entry.deleted and self.model.moderates(who, entry)
        else:
            expected = (
                entry.deleted
                and self.model.active(who) == entry.author
                and self.model.writes_in(who, entry)
            )
        expected = expected and not self.model.under_a_removal(note)
        done = self._try(lambda: annotations.restore(self.session, self.viewer(who), note))
        assert bool(done) is expected, (who, note)
        if done:
            removal = entry.removed_by
            entry.deleted, entry.removed_by = False, None
            if removal is not None:  # what that removal took along comes back with it
                for each in self.model.beneath(note):
                    other = self.model.notes[each]
                    if other.removed_by == removal:
                        other.deleted, other.removed_by = False, None

    @rule(who=st.sampled_from(NAMES), note=note_ids, hidden=st.booleans())
    def hide(self, who, note, hidden):
        if note < 0:
            return
        entry = self.model.notes[note]
        undoing_anothers = (
            self.model.active(who) == entry.author
            and entry.hidden_by is not None
            and entry.hidden_by != who
        )
        expected = (
            self.model.sees(who, note)
            and self.model.moderates(who, entry)
            and (who == "eve" or not undoing_anothers)
        )
        done = self._try(
            lambda: moderation.set_hidden(self.session, self.viewer(who), note, hidden)
        )
        assert bool(done) is expected, (who, note, hidden)
        if done and hidden != (entry.hidden_by is not None):
            entry.hidden_by = who if hidden else None

    # ---- reading

    @invariant()
    def every_read_path_agrees_with_the_model(self):
        """The policy's answers after every step; the pages, notebook, inbox and feed (which
        cost a hundred times as much) after every third, and always at the end."""
        self.steps += 1
        self.check_read_paths(pages=self.steps % 3 == 0)

    def teardown(self):
        self.check_read_paths(pages=True)

    def check_read_paths(self, pages: bool):
        self.session.expire_all()
        self.session.scalars(select(Annotation)).all()  # reloaded in one query, not one each
        for who in [*NAMES, None]:
            viewer = self.viewer(who)
            if who in self.model.disabled:
                assert viewer is ANONYMOUS
            allowed = {n for n in self.model.notes if self.model.sees(who, n)}
            listed = set(self.session.scalars(select(Annotation.id).where(visible_to(viewer))))
            listed -= self._discussions()
            assert listed == allowed, (who, listed ^ allowed)
            readable = {n for n in allowed if self.model.reads_words(who, n)}
            words = set(self.session.scalars(select(Annotation.id).where(readable_by(viewer))))
            assert words == readable, (who, words ^ readable)
            for note_id in self.model.notes:
                note = self.session.get(Annotation, note_id)
                assert can(viewer, Action.VIEW, note) is (note_id in allowed)
                assert can(viewer, Action.READ_HIDDEN, note) is (note_id in readable)
            if not pages:
                continue
            shown, placeholders = self._on_pages(viewer)
            assert shown <= allowed, (who, shown - allowed)
            assert self.words_shown <= readable, (who, self.words_shown - readable)
            for note_id in placeholders:  # "Note deleted": only where an answer is readable
                assert self.model.notes[note_id].deleted, (who, note_id)
                assert set(self.model.beneath(note_id)) & allowed, (who, note_id)
            # Every note's words name someone: searching each name finds exactly the notes
            # whose words the viewer may read, whatever moved, hid or left since.
            searched = self._searched(viewer)
            assert searched == readable, (who, searched ^ readable)
            events, _ = live.events_after(self.session, viewer, self.text.id, 0)
            fed = {e.annotation_id for e in events if e.kind == "created"}
            ever = {n for n in fed if n in self.model.notes}
            # A creation event reaches only those allowed at that moment; the model knows
            # the audience now, so check the weaker, always-true half: nothing never shared.
            for note_id in ever:
                note = self.model.notes[note_id]
                if note.visibility is Visibility.PRIVATE and note.author != who:
                    assert self._was_ever_shared(note_id), (who, note_id)
            if who is not None and viewer is not ANONYMOUS:
                mine = annotations.notebook(self.session, viewer, NotebookFilter())
                assert {a.id for a in mine} <= allowed
                inbox = notifications.inbox(self.session, viewer)
                assert {n.annotation_id for n in inbox} <= allowed

    def _searched(self, viewer) -> set[int]:
        found: set[int] = set()
        for name in NAMES:
            page, pages = 1, 1
            while page <= pages:
                results = search.search(self.session, viewer, search.Query(q=name, page=page))
                found |= {hit.annotation.id for hit in results.hits if hit.annotation}
                page, pages = page + 1, results.pages
        return found

    def _discussions(self) -> set[int]:
        return set(self.session.scalars(select(Annotation.id).where(Annotation.is_discussion)))

    def _was_ever_shared(self, note_id: int) -> bool:
        kinds = self.session.scalars(select(Event.visibility).where(Event.annotation_id == note_id))
        return any(v is not Visibility.PRIVATE for v in kinds)

    def _on_pages(self, viewer) -> tuple[set[int], set[int]]:
        """The notes the reading pages show, and the deleted first notes they keep as a
        wordless placeholder above answers: each page as it is served, from parts rendered
        for the viewer's audience (shared with every reader of it) and parts for them alone."""
        seen: set[int] = set()
        worded: set[int] = set()
        lenses = [texts.Lens("public")] + ([texts.Lens("mine")] if viewer.user else [])
        lenses += [texts.Lens("group", g) for g in viewer.roles]
        for lens in lenses:
            context = texts.reading_context(self.session, self.text.slug, viewer, lens)
            numbers = texts.part_numbers(context.spans)
            planned = texts.plan_parts(
                self.session, context, viewer, texts.PageRequest(), numbers, None
            )
            stand_in = texts.audience_for(viewer, context.lens).stand_in()
            for reader, personal in ((stand_in, False), (viewer, True)):
                only = frozenset(p.number for p in planned if p.personal is personal)
                if not only:
                    continue
                made_from = context if personal else texts.shared_context(context)
                view = texts.reading_view(
                    self.session, self.text.slug, reader, lens, context=made_from, only=only
                )
                notes = [a for p in view.paragraphs if p.paragraph.number in only for a in p.notes]
                if texts.WHOLE_TEXT_PART in only:
                    notes += view.text_notes + view.orphans
                threads = [
                    n.annotation
                    for root in notes
                    for n in discussion.flatten(view.conversation.threads.get(root.id, []))
                    if not n.is_placeholder
                ]
                for note in notes + threads:
                    seen.add(note.id)
                    if texts.may(reader, "read_hidden", note):
                        worded.add(note.id)
        placeholders = {n for n in seen if self.session.get(Annotation, n).deleted_at is not None}
        self.words_shown = worded - placeholders
        return seen - placeholders, placeholders


@pytest.fixture
def people(session):
    users = {
        name: factories.make_user(session, f"{name}@example.org", name.title()) for name in NAMES
    }
    users["eve"].is_admin = True
    session.commit()
    return users


def test_a_deleted_first_note_with_answers_stays_a_wordless_placeholder(session, seeded, people):
    """A case the machine found: the author deletes a group note someone answered."""
    machine = AccessMachine(session, people, seeded)
    seminar = machine.a_seminar()
    note = machine.annotate("ann", Visibility.GROUP, seminar, QUOTES[0])
    machine.reply("someone else", note)
    machine.delete("author", note)
    machine.check_read_paths(pages=True)
    assert machine._on_pages(machine.viewer("ann"))[1] == {note}


@pytest.mark.slow
def test_no_path_shows_what_the_policy_denies(session, seeded, people):
    run_state_machine_as_test(
        lambda: AccessMachine(session, people, seeded),
        settings=settings(
            max_examples=settings.default.max_examples,  # the profile's (tests/conftest.py)
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        ),
    )
