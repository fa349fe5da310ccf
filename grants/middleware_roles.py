"""A user's staff roles read once per request.

The admin asks "does this user hold role R at foundation F?" many times while rendering one
page (each menu item, each button, the filters, the view itself). For the duration of a
request, ``grants.permissions`` reads the user's staff memberships once and answers from
that memo; outside a request (services, tasks, shell) every question goes to the database.
The memo is dropped whenever a staff membership or a foundation is saved or deleted.
"""

from grants.permissions import roles_memo


class StaffRolesMemoMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with roles_memo():
            return self.get_response(request)
