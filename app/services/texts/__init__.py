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
from app.services.texts.segments import Segment, segments

__all__ = [
    "Assignment",
    "Filters",
    "Kind",
    "Lens",
    "LibraryEntry",
    "PageRequest",
    "ParagraphView",
    "ReadingContext",
    "ReadingView",
    "Segment",
    "Sort",
    "default_lens",
    "lens_options",
    "library",
    "reading_context",
    "reading_view",
    "segments",
]
