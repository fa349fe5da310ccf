"""The questions of a funding call as plain data, independent of Wagtail.

``cms.blocks`` turns the call page's StreamField into a list of ``Question``; forms and
services work only with this list, and its ``as_dict()`` form is what an application's
snapshot keeps on submit.
"""

from dataclasses import asdict, dataclass, field

QUESTION_TYPES = (
    "section",
    "short_text",
    "long_text",
    "number",
    "money",
    "date",
    "single_choice",
    "multiple_choice",
    "yes_no",
    "file",
    "budget",
    "consent",
)

# Upload types offered to editors: key -> (label, MIME types detected from the file's bytes).
FILE_TYPES = {
    "pdf": ("PDF", ("application/pdf",)),
    "image": ("JPEG / PNG", ("image/jpeg", "image/png")),
    "word": ("Word (.docx)", ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",)),
    "excel": ("Excel (.xlsx)", ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",)),
    "opendocument": (
        "OpenDocument (.odt, .ods)",
        ("application/vnd.oasis.opendocument.text", "application/vnd.oasis.opendocument.spreadsheet"),
    ),
}


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    label: str
    help_text: str = ""
    required: bool = False
    sensitive: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    word_limit: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    whole: bool = False  # a number question that counts: decimals are refused
    file_types: tuple[str, ...] = ()
    max_size_mb: int | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    consent_text: str = ""
    # True when the reader's translation of the call lacks this question: its words are the
    # source language's (see cms.blocks.questions_in_translation).
    untranslated: bool = False

    @property
    def is_input(self) -> bool:
        return self.type != "section"

    def as_dict(self) -> dict:
        data = asdict(self)
        for key in ("choices", "file_types", "categories"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Question":
        values = dict(data)
        for key in ("choices", "file_types", "categories"):
            values[key] = tuple(values.get(key) or ())
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Section:
    """A run of questions shown on one step of the form."""

    number: int
    heading: str
    help_text: str
    questions: tuple[Question, ...]


def split_sections(questions: list[Question], first_heading: str) -> list[Section]:
    """Group questions into steps: the first step (``first_heading``) holds the questions before
    the first section heading; every section heading starts a new step. Empty steps are dropped,
    except the first, which always carries the request itself (title and amount)."""
    groups: list[list] = [[first_heading, "", []]]
    for question in questions:
        if question.type == "section":
            groups.append([question.label, question.help_text, []])
        else:
            groups[-1][2].append(question)
    kept = [groups[0]] + [group for group in groups[1:] if group[2]]
    return [Section(n, heading, help_text, tuple(qs)) for n, (heading, help_text, qs) in enumerate(kept, 1)]


@dataclass(frozen=True)
class EligibilityQuestion:
    id: str
    question: str
    eligible_answer: bool
    reason: str
    untranslated: bool = False
