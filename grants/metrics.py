"""Program metrics grantees report, with sensible defaults per program type.

A call may define its own metrics (the call page's *Reports* tab); each has a ``key`` shared by
every translation so figures add up across languages. Without them, the defaults below apply.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from grants.forms.amounts import format_amount, read_number
from grants.models import ProgramType

NUMBER, TEXT = "number", "text"


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    kind: str = NUMBER
    help_text: str = ""
    whole: bool = True  # a count: "2,5" people are refused (a figure with decimals says False)


DEFAULT_METRICS = {
    ProgramType.DEPORTATION_DEFENSE: (
        Metric("people_represented", _("People represented")),
        Metric("bonds_paid", _("Bonds paid")),
        Metric("hearings_attended", _("Hearings attended")),
    ),
    ProgramType.HOTLINE_STIPENDS: (
        Metric("calls_answered", _("Calls answered")),
        Metric("shifts_covered", _("Shifts covered")),
        Metric("raids_responded", _("Raids responded to")),
    ),
    ProgramType.CO_ENFORCEMENT: (
        Metric("complaints_filed", _("Complaints filed with agencies")),
        Metric("workers_trained", _("Workers trained")),
        Metric("back_wages_recovered", _("Back wages recovered (amount)"), whole=False),
    ),
    ProgramType.OTHER: (
        Metric("people_reached", _("People reached")),
        Metric("highlights", _("Highlights"), TEXT, whole=False),
    ),
}


def default_metrics(program_type: str) -> tuple[Metric, ...]:
    return DEFAULT_METRICS.get(program_type, DEFAULT_METRICS[ProgramType.OTHER])


def display_value(metric: dict, raw) -> str:
    """A reported figure as the reader writes numbers ("1.500" in Spanish); text as written.

    Figures are stored canonically ("1500", "7.50", see ``grants.forms.reports``); one that does
    not read as a number is shown as it was typed."""
    if metric.get("kind", NUMBER) != NUMBER or raw in (None, ""):
        return raw or ""
    number = read_number(raw, whole=bool(metric.get("whole")))
    return format_amount(number) if number is not None else str(raw)
