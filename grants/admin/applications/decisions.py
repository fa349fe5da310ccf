"""The review actions on one application (POST only), through ``grants.services.reviews``; a
refusal is shown as a message with what was typed kept.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _t
from djmoney.money import Money

from grants.admin.applications.inspect import ACTIONS, ApplicationInspectView
from grants.admin.reviews import error_messages, form_error_messages
from grants.services import reviews as review_service
from grants.services import telling
from grants.services.errors import DomainError


class ApplicationActionView(ApplicationInspectView):
    """POST only: one review action on one application, through ``grants.services.reviews``."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        name = self.kwargs["action"]
        if name not in ACTIONS:
            raise Http404
        if not self.is_officer:
            raise PermissionDenied
        form = self.make_form(name, data=request.POST)
        if not form.is_valid():
            for line in form_error_messages(form):
                messages.error(request, line)
            return self.render_to_response(self.get_context_data(bound_forms={name: form}))
        try:
            done = self.run(name, form.cleaned_data, form)
        except DomainError as error:
            for line in error_messages(error):
                messages.error(request, line)
            return self.render_to_response(self.get_context_data(bound_forms={name: form}))
        messages.success(request, done)
        return redirect("applications:inspect", self.object.pk)

    def run(self, name, data, form) -> str:
        application, user = self.object, self.request.user
        if name == "start_screening":
            review_service.start_screening(application, by=user, note=data["note"])
            return _t("Screening started.")
        if name == "send_to_review":
            review_service.send_to_review(application, by=user, note=data["note"])
            return _t("Sent to review.")
        if name == "assign_reviewers":
            created = review_service.assign_reviewers([application], list(data["reviewers"]), by=user)
            if data["note"].strip() and "comment" in review_service.officer_actions(user, application):
                review_service.add_comment(
                    application, by=user, text=data["note"], shared_with_applicant=False
                )
            return _t("%(count)s reviewer(s) assigned. They were told by email.") % {"count": len(created)}
        if name == "request_more_info":
            review_service.request_more_information(
                application, by=user, message=data["message"], question_ids=data["questions"]
            )
            return telling.information_request_message(application)
        if name == "approve":
            amount = Money(data["amount"], application.call.fund.currency)
            review_service.approve_application(
                application, by=user, amount=amount,
                confirm_over_requested=data["confirm_over_requested"], message=data["message"],
            )  # fmt: skip
            return telling.decision_message(application, "approve")
        if name == "decline":
            review_service.decline_application(
                application, by=user, reason=form.reason_for(application.language)
            )
            return telling.decision_message(application, "decline")
        review_service.add_comment(
            application, by=user, text=data["text"], shared_with_applicant=data["shared_with_applicant"]
        )
        if data["shared_with_applicant"]:
            return _t("Comment added and shared with the applicant.")
        return _t("Internal comment added.")
