"""Names of an award's budget categories in a reader's language.

Spending is stored by category *position* ("0", "1"…), the same in every language; people read
names. The report pages, the admin report view and the auditor's workbook all name categories
through ``category_labels``, so a category is called the same everywhere.
"""

from cms.models import call_page_for
from grants.models import Award
from grants.services.reports import approved_budget


def category_labels(award: Award, language: str) -> list[tuple[str, str]]:
    """The award's budget categories as ``(position, label)``: in ``language`` when the call page
    has a budget question in it with the same categories, else as the application kept them."""
    labels = [(line.position, line.label) for line in approved_budget(award)]
    page = call_page_for(award.application.call, language)
    if page is not None:
        budget = [q for q in page.get_questions() if q.type == "budget"]
        if budget and len(budget[0].categories) == len(labels):
            labels = [(str(position), label) for position, label in enumerate(budget[0].categories)]
    return labels
