"""Reading the library: which texts there are and what a reading page shows.

The server knows the text and every anchor, so it splits each paragraph at annotation
boundaries itself and the page arrives with its highlights in place: no anchoring work in the
browser, nothing to wait for, and it works without JavaScript.
"""

from app.models import Kind
from app.services.texts.context import Assignment, PageRequest, ReadingContext, reading_context
from app.services.texts.lens import Filters, Lens, Sort, default_lens, lens_options
from app.services.texts.library import LibraryEntry, library
from app.services.texts.page import ParagraphView, ReadingView, reading_view
from app.services.texts.parts import (
    SECTIONS,
    WHOLE_TEXT_PART,
    Audience,
    Part,
    audience_for,
    may,
    may_as_author,
    members,
    part_numbers,
    shared_context,
)
from app.services.texts.parts import plan as plan_parts
from app.services.texts.segments import Segment, segments

__all__ = [
    "SECTIONS",
    "WHOLE_TEXT_PART",
    "Assignment",
    "Audience",
    "Filters",
    "Kind",
    "Lens",
    "LibraryEntry",
    "PageRequest",
    "ParagraphView",
    "Part",
    "ReadingContext",
    "ReadingView",
    "Segment",
    "Sort",
    "audience_for",
    "default_lens",
    "lens_options",
    "library",
    "may",
    "may_as_author",
    "members",
    "part_numbers",
    "plan_parts",
    "reading_context",
    "reading_view",
    "segments",
    "shared_context",
]
