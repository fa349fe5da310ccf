"""Applicant-facing URLs, mounted under the language prefix (/en/, /es/)."""

from django.urls import path

from grants.views import applications, awards
from grants.views import donations as donation_views
from grants.views import payouts as payout_views
from grants.views import reports as report_views
from grants.views import stipends as stipend_views
from grants.views import transparency as transparency_views

urlpatterns = [
    path("dashboard/", applications.dashboard, name="dashboard"),
    path("apply/<int:call_id>/", applications.apply_start, name="apply_start"),
    path("applications/<int:pk>/", applications.application_detail, name="application_detail"),
    path(
        "applications/<int:pk>/step/<int:number>/",
        applications.application_section,
        name="application_section",
    ),
    path("applications/<int:pk>/review/", applications.application_review, name="application_review"),
    path("applications/<int:pk>/submit/", applications.application_submit, name="application_submit"),
    path("applications/<int:pk>/withdraw/", applications.application_withdraw, name="application_withdraw"),
    path("applications/<int:pk>/versions/", applications.application_versions, name="application_versions"),
    path(
        "applications/<int:pk>/files/<int:attachment_id>/",
        applications.attachment_download,
        name="attachment_download",
    ),
    path("awards/<int:pk>/", awards.award_detail, name="award_detail"),
    path("awards/<int:pk>/accept/", awards.award_accept, name="award_accept"),
    path("awards/<int:pk>/decline/", awards.award_decline, name="award_decline"),
    path("awards/<int:pk>/vendor-payments/", awards.award_vendor_payment, name="award_vendor_payment"),
    path(
        "payouts/<slug:foundation_slug>/<int:organization_id>/",
        payout_views.payouts,
        name="payouts",
    ),
    path("stipends/", stipend_views.stipends_index, name="stipends"),
    path(
        "stipends/<int:program_id>/<int:organization_id>/",
        stipend_views.stipend_program,
        name="stipend_program",
    ),
    path(
        "stipends/<int:program_id>/<int:organization_id>/volunteers/",
        stipend_views.stipend_volunteers,
        name="stipend_volunteers",
    ),
    path(
        "stipends/<int:program_id>/<int:organization_id>/volunteers/<int:volunteer_id>/payouts/",
        stipend_views.stipend_volunteer_payouts,
        name="stipend_volunteer_payouts",
    ),
    path(
        "stipends/<int:program_id>/<int:organization_id>/volunteers/<int:volunteer_id>/active/",
        stipend_views.stipend_volunteer_active,
        name="stipend_volunteer_active",
    ),
    path(
        "stipends/<int:program_id>/<int:organization_id>/shifts/new/",
        stipend_views.stipend_shift_new,
        name="stipend_shift_new",
    ),
    path(
        "stipends/<int:program_id>/<int:organization_id>/shifts/import/",
        stipend_views.stipend_shift_import,
        name="stipend_shift_import",
    ),
    path(
        "stipends/<int:program_id>/<int:organization_id>/shifts/<int:shift_id>/delete/",
        stipend_views.stipend_shift_delete,
        name="stipend_shift_delete",
    ),
    path("donate/thanks/", donation_views.thanks, name="donation_thanks"),
    path("donate/manage/", donation_views.manage_request, name="donation_manage_request"),
    path("donate/manage/<str:token>/", donation_views.manage, name="donation_manage"),
    path("donate/<slug:foundation_slug>/<slug:fund_slug>/", donation_views.donate, name="donate"),
    path("reports/<int:due_id>/", report_views.report_detail, name="report_detail"),
    path(
        "reports/<int:due_id>/receipts/<int:expenditure_id>/",
        report_views.report_receipt,
        name="report_receipt",
    ),
    path("awards/<int:pk>/return/", report_views.award_return, name="award_return"),
]

urlpatterns += [
    path(
        "transparency/<slug:foundation_slug>/",
        transparency_views.foundation_page,
        name="transparency_foundation",
    ),
    path(
        "transparency/<slug:foundation_slug>/<slug:fund_slug>/",
        transparency_views.fund_page,
        name="transparency_fund",
    ),
]
