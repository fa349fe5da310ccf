"""StreamField blocks for the public pages."""

from dataclasses import replace

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock

from grants.questions import FILE_TYPES, EligibilityQuestion, Question


class CalloutBlock(blocks.StructBlock):
    """A highlighted box, e.g. a hotline number or a know-your-rights reminder."""

    heading = blocks.CharBlock(label=_("Heading"), max_length=120)
    text = blocks.RichTextBlock(label=_("Text"), features=["bold", "italic", "link", "ul", "ol"])

    class Meta:
        icon = "warning"
        template = "cms/blocks/callout.html"
        label = _("Callout")
        description = _("A highlighted box for urgent information such as a hotline number.")
        preview_value = {"heading": "Rapid response hotline", "text": "<p>Call 1-800-000-0000.</p>"}


class DocumentLinkBlock(blocks.StructBlock):
    """A downloadable document (guidelines, budget template) with a plain-language title."""

    document = DocumentChooserBlock(label=_("Document"))
    title = blocks.CharBlock(label=_("Title shown"), required=False, max_length=200)

    class Meta:
        icon = "doc-full"
        template = "cms/blocks/document_link.html"
        label = _("Document")
        description = _("A file visitors can download, e.g. the call guidelines.")


class BodyBlock(blocks.StreamBlock):
    """Content of standard pages: headings, text, callouts and documents."""

    heading = blocks.CharBlock(label=_("Heading"), form_classname="title", template="cms/blocks/heading.html")
    paragraph = blocks.RichTextBlock(
        label=_("Paragraph"), features=["h3", "bold", "italic", "link", "ul", "ol", "document-link"]
    )
    callout = CalloutBlock()
    document = DocumentLinkBlock()

    class Meta:
        description = _("Page content")


# --- Application form questions -------------------------------------------------------------
# Each question block carries a label, help text, "required" and "sensitive". Block ids are
# kept when a page is copied for translation, so answers are keyed by block id and the same
# application reads the same in English and Spanish.

FILE_TYPE_CHOICES = [(key, label) for key, (label, _mimes) in FILE_TYPES.items()]


class QuestionBlock(blocks.StructBlock):
    """Fields every question shares."""

    label = blocks.CharBlock(label=_("Question"), max_length=300)
    help_text = blocks.TextBlock(label=_("Help text"), required=False, max_length=1000)
    required = blocks.BooleanBlock(label=_("Required"), required=False, default=True)
    sensitive = blocks.BooleanBlock(
        label=_("Sensitive"),
        required=False,
        help_text=_("Sensitive answers are encrypted, never shown in lists or emails, and purged first."),
    )

    question_type = ""

    class Meta:
        icon = "help"
        form_classname = "struct-block question-block"

    def to_question(self, block_id: str, value) -> Question:
        return Question(
            id=block_id,
            type=self.question_type,
            label=value["label"],
            help_text=value.get("help_text") or "",
            required=bool(value.get("required")),
            sensitive=bool(value.get("sensitive")),
            **self.extra(value),
        )

    def extra(self, value) -> dict:
        return {}


class SectionHeadingBlock(blocks.StructBlock):
    """Starts a new step of the form, with a heading and help text."""

    label = blocks.CharBlock(label=_("Section heading"), max_length=200)
    help_text = blocks.TextBlock(label=_("Help text"), required=False)

    class Meta:
        icon = "title"
        label = _("Section")
        description = _("Starts a new step of the application form.")

    def to_question(self, block_id: str, value) -> Question:
        return Question(
            id=block_id, type="section", label=value["label"], help_text=value.get("help_text") or ""
        )


class ShortTextQuestionBlock(QuestionBlock):
    """One line of text."""

    max_length = blocks.IntegerBlock(label=_("Maximum characters"), default=200, min_value=1, max_value=1000)
    question_type = "short_text"

    class Meta:
        label = _("Short text")
        icon = "pilcrow"

    def extra(self, value):
        return {"max_length": value.get("max_length") or 200}


class LongTextQuestionBlock(QuestionBlock):
    """Paragraphs of text with a word limit."""

    word_limit = blocks.IntegerBlock(label=_("Word limit"), default=300, min_value=1, max_value=5000)
    question_type = "long_text"

    class Meta:
        label = _("Long text")
        icon = "doc-full"

    def extra(self, value):
        return {"word_limit": value.get("word_limit") or 300}


class NumberQuestionBlock(QuestionBlock):
    """A whole or decimal number, optionally within bounds."""

    min_value = blocks.DecimalBlock(label=_("Smallest"), required=False)
    max_value = blocks.DecimalBlock(label=_("Largest"), required=False)
    whole = blocks.BooleanBlock(
        label=_("Whole numbers only"),
        required=False,
        default=False,
        help_text=_("For counts (people, hearings, shifts): an answer with decimals is refused."),
    )
    question_type = "number"

    class Meta:
        label = _("Number")
        icon = "order"

    def extra(self, value):
        low, high = value.get("min_value"), value.get("max_value")
        return {
            "min_value": float(low) if low is not None else None,
            "max_value": float(high) if high is not None else None,
            "whole": bool(value.get("whole")),
        }


class MoneyQuestionBlock(QuestionBlock):
    """An amount in the fund's currency."""

    question_type = "money"

    class Meta:
        label = _("Money amount")
        icon = "tag"


class DateQuestionBlock(QuestionBlock):
    question_type = "date"

    class Meta:
        label = _("Date")
        icon = "date"


class ChoiceQuestionBlock(QuestionBlock):
    choices = blocks.ListBlock(
        blocks.CharBlock(label=_("Choice"), max_length=200), label=_("Choices"), min_num=2
    )

    def extra(self, value):
        return {"choices": tuple(value.get("choices") or ())}


class SingleChoiceQuestionBlock(ChoiceQuestionBlock):
    """Pick one of a list."""

    question_type = "single_choice"

    class Meta:
        label = _("Single choice")
        icon = "radio-full"


class MultipleChoiceQuestionBlock(ChoiceQuestionBlock):
    """Tick any of a list."""

    question_type = "multiple_choice"

    class Meta:
        label = _("Multiple choice")
        icon = "list-ul"


class YesNoQuestionBlock(QuestionBlock):
    question_type = "yes_no"

    class Meta:
        label = _("Yes / no")
        icon = "tick"


class FileQuestionBlock(QuestionBlock):
    """A private file upload; the type is checked from the file's content."""

    file_types = blocks.MultipleChoiceBlock(
        label=_("Allowed types"), choices=FILE_TYPE_CHOICES, default=["pdf", "image"]
    )
    max_size_mb = blocks.IntegerBlock(label=_("Largest size (MB)"), default=5, min_value=1, max_value=25)
    question_type = "file"

    class Meta:
        label = _("File upload")
        icon = "doc-empty"

    def extra(self, value):
        return {
            "file_types": tuple(value.get("file_types") or ("pdf",)),
            "max_size_mb": value.get("max_size_mb") or 5,
        }


class BudgetQuestionBlock(QuestionBlock):
    """Budget lines (category, description, amount) whose total must equal the amount requested."""

    categories = blocks.ListBlock(
        blocks.CharBlock(label=_("Category"), max_length=100), label=_("Budget categories"), min_num=1
    )
    question_type = "budget"

    class Meta:
        label = _("Budget table")
        icon = "table"

    def extra(self, value):
        return {"categories": tuple(value.get("categories") or ())}


class ConsentQuestionBlock(QuestionBlock):
    """A statement the applicant must tick to agree to."""

    consent_text = blocks.TextBlock(label=_("Statement to agree to"))
    question_type = "consent"

    class Meta:
        label = _("Consent checkbox")
        icon = "success"

    def extra(self, value):
        return {"consent_text": value.get("consent_text") or ""}


class QuestionStreamBlock(blocks.StreamBlock):
    """The application form of a funding call."""

    section = SectionHeadingBlock()
    short_text = ShortTextQuestionBlock()
    long_text = LongTextQuestionBlock()
    number = NumberQuestionBlock()
    money = MoneyQuestionBlock()
    date = DateQuestionBlock()
    single_choice = SingleChoiceQuestionBlock()
    multiple_choice = MultipleChoiceQuestionBlock()
    yes_no = YesNoQuestionBlock()
    file = FileQuestionBlock()
    budget = BudgetQuestionBlock()
    consent = ConsentQuestionBlock()

    class Meta:
        description = _("Questions of the application form, in order. A section heading starts a new step.")


class EligibilityQuestionBlock(blocks.StructBlock):
    """A yes/no screening question answered before the form; the wrong answer ends the visit."""

    question = blocks.CharBlock(label=_("Question"), max_length=300)
    eligible_answer = blocks.ChoiceBlock(
        label=_("Answer that is eligible"), choices=[("yes", _("Yes")), ("no", _("No"))], default="yes"
    )
    reason = blocks.TextBlock(
        label=_("Message when not eligible"),
        help_text=_("Tell the person plainly why they cannot apply, and where else to turn."),
    )

    class Meta:
        icon = "help"
        label = _("Eligibility question")


def questions_from_stream(stream) -> list[Question]:
    """The call's questions as plain ``Question`` objects, in order."""
    return [child.block.to_question(child.id, child.value) for child in stream]


def eligibility_from_stream(stream) -> list[EligibilityQuestion]:
    return [
        EligibilityQuestion(
            id=child.id,
            question=child.value["question"],
            eligible_answer=child.value["eligible_answer"] == "yes",
            reason=child.value["reason"],
        )
        for child in stream
    ]


class RubricCriterionBlock(blocks.StructBlock):
    """One criterion of the review rubric: scored 0-5, weighted in the average."""

    label = blocks.CharBlock(label=_("Criterion"), max_length=200)
    weight = blocks.DecimalBlock(label=_("Weight"), min_value=0.1, max_value=100, default=1)
    guidance = blocks.TextBlock(label=_("Guidance for reviewers"), required=False)

    class Meta:
        icon = "list-ol"
        label = _("Criterion")


def rubric_from_stream(stream) -> list[dict]:
    """The rubric as plain data: ``[{"id", "label", "weight", "guidance"}]``."""
    return [
        {
            "id": child.id,
            "label": child.value["label"],
            "weight": str(child.value["weight"]),
            "guidance": child.value.get("guidance") or "",
        }
        for child in stream
    ]


class ReportMetricBlock(blocks.StructBlock):
    """A figure grantees report (e.g. people represented). The key ties the translations together."""

    key = blocks.RegexBlock(
        regex=r"^[a-z][a-z0-9_]{1,39}$",
        label=_("Key"),
        help_text=_(
            "Lower-case letters, digits and _; the same in every translation (e.g. people_represented)."
        ),
        error_messages={"invalid": _("Use lower-case letters, digits and _ (2 to 40).")},
    )
    label = blocks.CharBlock(label=_("Label"), max_length=120)
    kind = blocks.ChoiceBlock(
        choices=[("number", _("A number")), ("text", _("A short text"))], default="number", label=_("Answer")
    )
    whole = blocks.BooleanBlock(
        label=_("Whole numbers only"),
        required=False,
        default=False,
        help_text=_("For counts (people, hearings, shifts): a figure with decimals is refused."),
    )
    help_text = blocks.CharBlock(label=_("Help text"), max_length=200, required=False)

    class Meta:
        icon = "order"
        label = _("Metric")


def metrics_from_stream(stream) -> list[dict]:
    """The call's report metrics as plain data: ``[{"key", "label", "kind", "help_text"}]``."""
    return [
        {
            "key": child.value["key"],
            "label": child.value["label"],
            "kind": child.value["kind"],
            "help_text": child.value.get("help_text") or "",
            "whole": bool(child.value.get("whole")),
        }
        for child in stream
    ]


# --- One structure for every translation of a call ------------------------------------------
# A call's criteria and weights, questions and metrics are the call's, not a page's: they come
# from the page in the source language; a translation only supplies the words, matched by a key
# every translation shares (the block id, kept when a page is copied for translation; a metric's
# ``key``). What a translation lacks keeps the source's words, marked ``untranslated``; what only
# a translation has is ignored, so a reviewer's language never changes what is scored.

QUESTION_WORDS = ("label", "help_text", "consent_text")
QUESTION_LISTS = ("choices", "categories")


def rubric_in_translation(source: list[dict], translation: list[dict]) -> list[dict]:
    """The source's criteria and weights, labelled and explained by ``translation`` by id."""
    words = {criterion["id"]: criterion for criterion in translation}
    merged = []
    for criterion in source:
        own = words.get(criterion["id"])
        if own is None:
            merged.append({**criterion, "untranslated": True})
        else:
            merged.append(
                {**criterion, "label": own["label"], "guidance": own["guidance"], "untranslated": False}
            )
    return merged


def questions_in_translation(source: list[Question], translation: list[Question]) -> list[Question]:
    """The source's questions (order, type, limits, required, sensitive) in ``translation``'s
    words by id. Lists of choices or categories are answered by position, so a translation's
    list is used only when it has as many items as the source's."""
    words = {question.id: question for question in translation}
    merged = []
    for question in source:
        own = words.get(question.id)
        if own is None or own.type != question.type:
            merged.append(replace(question, untranslated=True))
            continue
        changes = {name: getattr(own, name) for name in QUESTION_WORDS}
        for name in QUESTION_LISTS:
            if len(getattr(own, name)) == len(getattr(question, name)):
                changes[name] = getattr(own, name)
        merged.append(replace(question, untranslated=False, **changes))
    return merged


def eligibility_in_translation(
    source: list[EligibilityQuestion], translation: list[EligibilityQuestion]
) -> list[EligibilityQuestion]:
    """The source's screening questions and eligible answers, in ``translation``'s words by id."""
    words = {question.id: question for question in translation}
    return [
        replace(question, question=words[question.id].question, reason=words[question.id].reason)
        if question.id in words
        else replace(question, untranslated=True)
        for question in source
    ]


def metrics_in_translation(source: list[dict], translation: list[dict]) -> list[dict]:
    """The source's metrics (keys and kinds) labelled by ``translation`` by key."""
    words = {metric["key"]: metric for metric in translation}
    merged = []
    for metric in source:
        own = words.get(metric["key"])
        if own is None:
            merged.append({**metric, "untranslated": True})
        else:
            merged.append(
                {**metric, "label": own["label"], "help_text": own["help_text"], "untranslated": False}
            )
    return merged
