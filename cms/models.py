"""Wagtail pages of the public site and its branding settings.

Page tree per language (Wagtail i18n, ``/en/`` and ``/es/``)::

    HomePage
    ├── FoundationPage           one foundation's section: who they are, contact, their funds
    │   ├── FundPage             public face of one grants.Fund of that foundation
    │   │   └── FundingCallPage  public face of one grants.FundingCall
    │   └── StandardPage         the foundation's own pages
    ├── FundIndexPage            all funds and a filterable list of calls, every foundation
    └── StandardPage             about, privacy notice, know-your-rights resources

Each foundation owns its section (``cms.sections``): its staff get Wagtail page permissions
on it and nowhere else, so the explorer, search, reports and choosers follow.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, ObjectList, TabbedInterface
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Locale, Page, PagePermissionTester
from wagtail.rich_text import RichText

from grants.forms.translations import translated_model_form, translation_row
from grants.metrics import default_metrics
from grants.models import CallStatus, Fund, FundingCall, FundStatus, ProgramType, source_language
from grants.models.translated import TranslatedText, text_in, translated
from grants.permissions import foundation_ids
from grants.services import bond_reporting, charts, donations

from .blocks import (
    BodyBlock,
    DocumentLinkBlock,
    EligibilityQuestionBlock,
    QuestionStreamBlock,
    ReportMetricBlock,
    RubricCriterionBlock,
    eligibility_from_stream,
    eligibility_in_translation,
    metrics_from_stream,
    metrics_in_translation,
    questions_from_stream,
    questions_in_translation,
    rubric_from_stream,
    rubric_in_translation,
)

RICH_TEXT_FEATURES = ["h3", "bold", "italic", "link", "ul", "ol", "document-link"]


class HomePage(Page):
    """Landing page: open calls first, then the funds."""

    intro = RichTextField(_("introduction"), blank=True, features=RICH_TEXT_FEATURES)

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["cms.FoundationPage", "cms.FundIndexPage", "cms.StandardPage"]
    max_count_per_parent = 1

    content_panels = Page.content_panels + [FieldPanel("intro")]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        now = timezone.now()
        context["open_calls"] = list(
            call_pages(self.locale).filter(funding_call__in=FundingCall.objects.open_at(now))
        )
        context["upcoming_calls"] = list(
            call_pages(self.locale).filter(funding_call__in=FundingCall.objects.upcoming_at(now))[:6]
        )
        context["funds"] = list(fund_pages(self.locale))
        context["fund_index"] = FundIndexPage.objects.live().filter(locale=self.locale).first()
        context["sections"] = list(FoundationPage.objects.live().public().child_of(self).order_by("title"))
        return context


class FundIndexPage(Page):
    """All funds, and every funding call filterable by program type and status, of every foundation.

    It has no children: fund pages live in their foundation's section and are found by query.
    """

    intro = RichTextField(_("introduction"), blank=True, features=RICH_TEXT_FEATURES)

    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []
    max_count_per_parent = 1

    content_panels = Page.content_panels + [FieldPanel("intro")]

    class Meta:
        verbose_name = _("fund index page")

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        program = request.GET.get("program", "")
        status = request.GET.get("status", "")
        if program not in ProgramType.values:
            program = ""
        if status not in CallStatus.values:
            status = ""
        calls = call_pages(self.locale)
        if program:
            calls = calls.filter(funding_call__fund__program_type=program)
        if status:
            calls = calls.filter(funding_call__in=FundingCall.objects.with_status(status, timezone.now()))
        context.update(
            calls=list(calls),
            funds=list(fund_pages(self.locale)),
            program_choices=ProgramType.choices,
            status_choices=CallStatus.choices,
            selected_program=program,
            selected_status=status,
        )
        return context


class FoundationPage(Page):
    """A foundation's own section of the site: who they are, how to reach them, their funds.

    One per foundation and language (``cms.sections.ensure_foundation_section``); the
    foundation's staff hold page permissions on it and on everything beneath it.
    """

    foundation = models.ForeignKey(
        "grants.Foundation",
        on_delete=models.PROTECT,
        related_name="section_pages",
        verbose_name=_("foundation"),
    )
    intro = RichTextField(_("who we are"), blank=True, features=RICH_TEXT_FEATURES)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    parent_page_types = ["cms.HomePage"]
    subpage_types = ["cms.FundPage", "cms.StandardPage"]
    # Made by ``ensure_foundation_section`` only, and its foundation is never edited here: a
    # section that changed hands would hand its pages to another foundation's staff.
    is_creatable = False

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    class Meta:
        verbose_name = _("foundation section")

    def permissions_for_user(self, user):
        return FoundationPagePermissionTester(user, self, self.foundation_id)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        funds = list(fund_pages(self.locale).child_of(self))
        calls_by_fund: dict[int, list] = {}
        open_now = FundingCall.objects.open_at(timezone.now())
        for call_page in call_pages(self.locale).descendant_of(self).filter(funding_call__in=open_now):
            calls_by_fund.setdefault(call_page.funding_call.fund_id, []).append(call_page)
        context["funds"] = [(fund_page, calls_by_fund.get(fund_page.fund_id, [])) for fund_page in funds]
        return context


def section_of(page) -> "FoundationPage | None":
    """The foundation section ``page`` stands in (``page`` itself when it is one), else None."""
    if page is None:
        return None
    page = page.specific
    if isinstance(page, FoundationPage):
        return page
    ancestors = [page.path[:end] for end in range(Page.steplen, len(page.path), Page.steplen)]
    return FoundationPage.objects.filter(path__in=ancestors).select_related("foundation").first()


def _fund_outside_section(fund, parent) -> ValidationError | None:
    """The error when ``fund`` is not a fund of the foundation whose section ``parent`` is."""
    section = section_of(parent)
    if section is None or fund.foundation_id != section.foundation_id:
        return ValidationError(
            {
                "fund": _("Choose a fund of %(foundation)s, whose section this page is in.")
                % {"foundation": section.foundation.name if section else "—"}
            }
        )
    return None


class FundPageForm(WagtailAdminPageForm):
    """The fund page editor offers only the funds of the section's foundation."""

    def __init__(self, *args, parent_page=None, **kwargs):
        super().__init__(*args, parent_page=parent_page, **kwargs)
        if "fund" in self.fields:
            section = section_of(parent_page)
            self.fields["fund"].queryset = (
                Fund.objects.filter(foundation_id=section.foundation_id) if section else Fund.objects.none()
            )

    def clean(self):
        cleaned_data = super().clean()
        fund = cleaned_data.get("fund")
        if fund is not None and (error := _fund_outside_section(fund, self.parent_page)):
            self.add_error(None, error)
        return cleaned_data


class FundingCallPageForm(WagtailAdminPageForm):
    """The call page editor offers only the calls of the parent fund page's fund."""

    def __init__(self, *args, parent_page=None, **kwargs):
        super().__init__(*args, parent_page=parent_page, **kwargs)
        if "funding_call" in self.fields:
            parent = parent_page.specific if parent_page else None
            self.fields["funding_call"].queryset = (
                FundingCall.objects.filter(fund_id=parent.fund_id)
                if isinstance(parent, FundPage)
                else FundingCall.objects.none()
            )


class FoundationPagePermissionTester(PagePermissionTester):
    """Page permissions of a foundation's own page: staff of other foundations may not restrict
    who can see it. (Editing, moving, copying... are refused by the hooks in cms/wagtail_hooks.py
    with a 404; Wagtail's privacy view has no such hook.)"""

    def __init__(self, user, page, foundation_id: int):
        super().__init__(user, page)
        self.foundation_id = foundation_id

    def can_set_view_restrictions(self):
        return super().can_set_view_restrictions() and self.foundation_id in foundation_ids(self.user)


class FundPage(Page):
    """The public face of one fund: what it pays for, its calls, progress to its goal."""

    fund = models.ForeignKey(
        "grants.Fund",
        on_delete=models.PROTECT,
        related_name="pages",
        verbose_name=_("fund"),
        help_text=_("The fund whose figures this page shows. Each translation points to the same fund."),
    )
    summary = models.CharField(_("summary"), max_length=300, help_text=_("One or two sentences for lists."))
    body = RichTextField(_("description"), blank=True, features=RICH_TEXT_FEATURES)

    parent_page_types = ["cms.FoundationPage"]
    subpage_types = ["cms.FundingCallPage"]

    content_panels = Page.content_panels + [
        FieldPanel("fund"),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]
    base_form_class = FundPageForm

    class Meta:
        verbose_name = _("fund page")

    def permissions_for_user(self, user):
        return FoundationPagePermissionTester(user, self, self.fund.foundation_id)

    def clean(self):
        super().clean()
        # Unsaved pages have no place in the tree yet: the editor's form checks against the parent
        # it is adding to, and this runs again when ``add_child`` saves the page.
        parent = self.get_parent() if self.path else None
        if parent is not None and self.fund_id and (error := _fund_outside_section(self.fund, parent)):
            raise error

    @property
    def section(self) -> "FoundationPage | None":
        return section_of(self)

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["calls"] = list(call_pages(self.locale).child_of(self))
        context["now"] = timezone.now()
        context["progress"] = donations.fund_progress(self.fund)
        context["received_chart"] = charts.fund_received_chart(self.fund)
        context["revolving"] = bond_reporting.public_revolving(self.fund)
        if self.fund.accepts_donations and self.fund.status == FundStatus.ACTIVE:
            context["donate_amounts"] = [
                (f"{m.amount.normalize():f}", m) for m in donations.suggested_amounts(self.fund)
            ]
        return context


class FundingCallPage(Page):
    """The public face of one funding call: who can apply, for how much, until when."""

    funding_call = models.ForeignKey(
        "grants.FundingCall",
        on_delete=models.PROTECT,
        related_name="pages",
        verbose_name=_("funding call"),
        help_text=_("Dates and amounts come from here, so every translation shows the same figures."),
    )
    summary = models.CharField(_("summary"), max_length=300)
    eligibility = RichTextField(_("who can apply"), features=RICH_TEXT_FEATURES)
    how_to_apply = RichTextField(_("how to apply"), blank=True, features=RICH_TEXT_FEATURES)
    documents = StreamField([("document", DocumentLinkBlock())], verbose_name=_("documents"), blank=True)
    eligibility_questions = StreamField(
        [("question", EligibilityQuestionBlock())],
        verbose_name=_("eligibility questions"),
        blank=True,
        help_text=_("Answered before the form. Anyone who gives a not-eligible answer is told why."),
    )
    questions = StreamField(QuestionStreamBlock(), verbose_name=_("application questions"), blank=True)
    rubric = StreamField(
        [("criterion", RubricCriterionBlock())],
        verbose_name=_("review rubric"),
        blank=True,
        help_text=_("Criteria reviewers score from 0 to 5; the weights set each one's share of the average."),
    )

    parent_page_types = ["cms.FundPage"]
    subpage_types: list[str] = []

    content_panels = Page.content_panels + [
        FieldPanel("funding_call"),
        FieldPanel("summary"),
        FieldPanel("eligibility"),
        FieldPanel("how_to_apply"),
        FieldPanel("documents"),
    ]
    form_panels = [FieldPanel("eligibility_questions"), FieldPanel("questions")]
    award_agreement = RichTextField(
        _("award agreement"),
        blank=True,
        features=RICH_TEXT_FEATURES,
        help_text=_(
            "What grantees of this call agree to when they accept an award. Leave empty to use the "
            "portal's standard agreement."
        ),
    )
    report_metrics = StreamField(
        [("metric", ReportMetricBlock())],
        verbose_name=_("report metrics"),
        blank=True,
        help_text=_(
            "Figures grantees report with their spending (number or short text). Leave empty to use the "
            "defaults for the fund's program type."
        ),
    )
    review_panels = [FieldPanel("rubric"), FieldPanel("award_agreement"), FieldPanel("report_metrics")]
    base_form_class = FundingCallPageForm
    edit_handler = TabbedInterface(
        [
            ObjectList(content_panels, heading=_("Content")),
            ObjectList(form_panels, heading=_("Application form")),
            ObjectList(review_panels, heading=_("Review")),
            ObjectList(Page.promote_panels, heading=_("Promote")),
            ObjectList(Page.settings_panels, heading=_("Settings")),
        ]
    )

    class Meta:
        verbose_name = _("funding call page")

    def permissions_for_user(self, user):
        return FoundationPagePermissionTester(user, self, self.funding_call.fund.foundation_id)

    def structure_page(self) -> "FundingCallPage":
        """The call's page in the source language: its criteria, weights and questions are the
        call's in every language (``cms.blocks`` "One structure for every translation")."""
        if self.locale.language_code == source_language():
            return self
        source = (
            FundingCallPage.objects.filter(
                funding_call_id=self.funding_call_id, locale__language_code=source_language()
            )
            .exclude(pk=self.pk)
            .first()
        )
        return source or self

    def get_questions(self):
        """The call's questions in this page's words; a question only the source has keeps its
        words, marked ``untranslated``."""
        source = self.structure_page()
        own = questions_from_stream(self.questions)
        return (
            own if source is self else questions_in_translation(questions_from_stream(source.questions), own)
        )

    def get_rubric(self):
        """The call's criteria and weights (the source page's), labelled in this page's words."""
        source = self.structure_page()
        own = rubric_from_stream(self.rubric)
        if source is self:
            return [{**criterion, "untranslated": False} for criterion in own]
        return rubric_in_translation(rubric_from_stream(source.rubric), own)

    def get_eligibility_questions(self):
        source = self.structure_page()
        own = eligibility_from_stream(self.eligibility_questions)
        if source is self:
            return own
        return eligibility_in_translation(eligibility_from_stream(source.eligibility_questions), own)

    def get_report_metrics(self) -> list[dict]:
        """The call's own metrics (the source page's keys and kinds) in this page's words."""
        source = self.structure_page()
        own = metrics_from_stream(self.report_metrics)
        if source is self:
            return own
        return metrics_in_translation(metrics_from_stream(source.report_metrics), own)

    @property
    def call(self) -> FundingCall:
        return self.funding_call

    def clean(self):
        super().clean()
        parent = self.get_parent()
        parent_page = parent.specific if parent else None
        if (
            isinstance(parent_page, FundPage)
            and self.funding_call_id
            and self.funding_call.fund_id != parent_page.fund_id
        ):
            raise ValidationError({"funding_call": _("Choose a call of this page's fund.")})

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context["call"] = self.funding_call
        context["fund"] = self.funding_call.fund
        context["fund_page"] = self.get_parent().specific
        return context


class StandardPage(Page):
    """About, privacy notice, know-your-rights resources and other plain content."""

    intro = models.CharField(_("introduction"), max_length=300, blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("body"), blank=True)

    parent_page_types = ["cms.HomePage", "cms.FoundationPage", "cms.StandardPage"]
    subpage_types = ["cms.StandardPage"]

    content_panels = Page.content_panels + [FieldPanel("intro"), FieldPanel("body")]

    class Meta:
        verbose_name = _("standard page")


# The name a new site starts with; translated (gettext) until an editor names the site.
DEFAULT_SITE_NAME = gettext_noop("Fund portal")


@register_setting(icon="site")
class BrandingSettings(TranslatedText, BaseSiteSetting):
    """Branding and contact details shown on every public page; the name and tagline in every
    language of the portal (``translations``, like other staff-written text)."""

    translated_fields = ("site_name", "tagline")

    site_name = models.CharField(_("site name"), max_length=100, default=DEFAULT_SITE_NAME)
    tagline = models.CharField(_("tagline"), max_length=200, blank=True)
    primary_color = models.CharField(
        _("primary colour"),
        max_length=7,
        default="#1d4e89",
        help_text=_("A dark colour (hex, e.g. #1d4e89); white text must stay readable on it."),
    )
    contact_email = models.EmailField(_("contact email"), blank=True)
    hotline = models.CharField(
        _("rapid response hotline"),
        max_length=60,
        blank=True,
        help_text=_("Shown in the page footer on every page."),
    )
    privacy_page = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("privacy notice page"),
    )

    panels = [
        MultiFieldPanel(
            [translation_row("site_name"), translation_row("tagline")],
            heading=_("Name"),
            help_text=_("In each language of the portal; an empty translation shows the first one."),
        ),
        FieldPanel("primary_color"),
        MultiFieldPanel(
            [FieldPanel("contact_email"), FieldPanel("hotline"), FieldPanel("privacy_page")],
            heading=_("Contact"),
        ),
    ]

    class Meta:
        verbose_name = _("branding")

    def clean(self):
        super().clean()
        color = self.primary_color or ""
        if len(color) != 7 or not color.startswith("#"):
            raise ValidationError({"primary_color": _("Enter a colour as # and six hex digits.")})
        try:
            red, green, blue = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
        except ValueError:
            raise ValidationError({"primary_color": _("Enter a colour as # and six hex digits.")}) from None

        def channel(value):
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        luminance = 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)
        if (1.05) / (luminance + 0.05) < 4.5:
            raise ValidationError(
                {"primary_color": _("This colour is too light: white text on it would be hard to read.")}
            )

    def site_name_for(self, language_code: str) -> str:
        """The site's name in ``language_code``: its translation when an editor wrote one; the
        portal's default name is translated like any interface text."""
        if language_code != source_language() and (own := text_in(self, "site_name", language_code)):
            return own
        name = self.site_name or DEFAULT_SITE_NAME
        if name == DEFAULT_SITE_NAME:
            with translation.override(language_code):
                return translation.gettext(DEFAULT_SITE_NAME)
        return name

    def tagline_for(self, language_code: str) -> str:
        return translated(self, "tagline", language_code)


def call_pages(locale):
    """Live public funding call pages in ``locale``, with call, fund and foundation joined in.

    One query however many calls there are.
    """
    return (
        FundingCallPage.objects.live()
        .public()
        .filter(locale=locale)
        .select_related("funding_call__fund__foundation", "locale")
        .order_by("funding_call__closes_at", "pk")
    )


def call_page_for(call, language_code: str):
    """The live page of ``call`` in ``language_code``, else in any language (None if unpublished)."""
    pages = list(
        FundingCallPage.objects.live()
        .filter(funding_call=call)
        .select_related("locale", "funding_call__fund")
    )
    for page in pages:
        if page.locale.language_code == language_code:
            return page
    return pages[0] if pages else None


def agreement_texts(call) -> dict[str, str]:
    """The award agreement of ``call`` in every language the portal speaks (HTML).

    Each language takes the call page's own agreement when it has one, else the portal's
    standard agreement rendered in that language, so a grantee always reads it in theirs.
    """
    pages = {
        page.locale.language_code: page
        for page in FundingCallPage.objects.filter(funding_call=call).select_related("locale")
    }
    texts = {}
    for code, _name in settings.LANGUAGES:
        page = pages.get(code)
        if page is not None and page.award_agreement:
            texts[code] = str(RichText(page.award_agreement))
        else:
            with translation.override(code):
                texts[code] = render_to_string(
                    "awards/standard_agreement.html", {"foundation": call.fund.foundation, "fund": call.fund}
                )
    return texts


def report_metrics(call, language_code: str) -> list[dict]:
    """The metrics grantees of ``call`` report, labelled in ``language_code``: the call page's own
    (in that language, else any), or the defaults of the fund's program type."""
    page = call_page_for(call, language_code)
    metrics = page.get_report_metrics() if page is not None else []
    if metrics:
        return metrics
    with translation.override(language_code):
        return [
            {
                "key": m.key,
                "label": str(m.label),
                "kind": m.kind,
                "help_text": str(m.help_text),
                "whole": m.whole,
            }
            for m in default_metrics(call.fund.program_type)
        ]


def call_titles(language_code: str, call_ids) -> dict[int, str]:
    """Public titles of ``call_ids`` in ``language_code``, in one query."""
    return dict(
        FundingCallPage.objects.live()
        .filter(funding_call_id__in=list(call_ids), locale__language_code=language_code)
        .values_list("funding_call_id", "title")
    )


def open_call_pages(language_code: str) -> list:
    """Call pages in ``language_code`` whose call is open now."""
    locale = Locale.objects.filter(language_code=language_code).first()
    if locale is None:
        return []
    return list(call_pages(locale).filter(funding_call__in=FundingCall.objects.open_at(timezone.now())))


def fund_pages(locale):
    """Live public fund pages in ``locale`` with their fund and foundation, in one query."""
    return (
        FundPage.objects.live()
        .public()
        .filter(locale=locale)
        .select_related("fund__foundation", "locale")
        .order_by("fund__foundation__name", "title")
    )


__all__ = [
    "BrandingSettings",
    "FoundationPage",
    "FundIndexPage",
    "FundPage",
    "FundingCallPage",
    "HomePage",
    "StandardPage",
    "call_page_for",
    "call_pages",
    "call_titles",
    "fund_pages",
    "open_call_pages",
]


# The branding form carries an input per language for the name and the tagline.
BrandingSettings.base_form_class = translated_model_form(BrandingSettings)
