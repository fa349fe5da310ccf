"""Reading and showing one page of a long staff list cheaply.

A list of thousands of rows sorted by an expression (a decision due date that only counts while
the application is open, a gift's date from three columns) cannot be served in order by an
index: PostgreSQL reads and sorts every matching row. Reading the whole row for that (the
application with its call, fund, foundation, organization and review counts) makes the sort
carry kilobytes per row through the joins. ``rows_of_page`` first sorts and cuts on the ids
alone — the narrowest query that gives the page — then reads those rows in full.
"""

import django_filters
from django.contrib.admin.utils import quote
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.functional import cached_property
from django_filters import fields as filter_fields

from grants.forms.choices import ChoicesInOneQuery, OptionsInPythonSelect

# Digits, so that integer and string URL converters both accept it; long enough that no other
# part of an admin URL can contain it.
PLACEHOLDER = "918273645546372819"


def url_maker(url_name: str):
    """``pk -> reverse(url_name, args=(pk,))`` for a page of rows, with one ``reverse``."""
    pattern = reverse(url_name, args=(PLACEHOLDER,))
    return lambda pk: pattern.replace(PLACEHOLDER, str(quote(pk)), 1)


def choice_labels(model, field_name: str) -> dict:
    """A field's choices as a dict (``get_FOO_display`` rebuilds it on every call)."""
    return dict(model._meta.get_field(field_name).flatchoices)


def rows_of_page(queryset: QuerySet, page_slice: QuerySet) -> list:
    """The rows of ``page_slice`` (``queryset`` cut to one page), in the page's order.

    ``queryset`` is the full ordered list (``select_related``, annotations and all);
    ``page_slice`` the paginator's slice of it. Only the ids are read through the slice.
    """
    ids = list(page_slice.values_list("pk", flat=True))
    by_id = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
    return [by_id[pk] for pk in ids if pk in by_id]


class RowLinksOncePerPageMixin:
    """For a Wagtail ``IndexView``: the permission answers and the shape of each row's links
    (edit, copy, inspect, delete) worked out once per page instead of once per row.

    Wagtail asks the permission policy and reverses each URL for every row: 50 rows make
    ~200 permission questions and ~200 reverses. The answers do not depend on the row (the
    policy is per model), and a row's URL differs from the next only by its key, so each URL
    is reversed once with a placeholder key and the row's key put in its place.
    """

    @cached_property
    def _answers(self) -> dict:
        return {}

    def user_has_permission(self, permission):
        if permission not in self._answers:
            self._answers[permission] = super().user_has_permission(permission)
        return self._answers[permission]

    def user_has_any_permission(self, permissions):
        key = frozenset(permissions)
        if key not in self._answers:
            self._answers[key] = super().user_has_any_permission(permissions)
        return self._answers[key]

    def _row_url(self, url_name: str, instance) -> str:
        key = ("url", url_name)
        if key not in self._answers:
            self._answers[key] = url_maker(url_name)
        return self._answers[key](instance.pk)

    def get_edit_url(self, instance):
        if self.edit_url_name and self.user_has_permission("change"):
            return self._row_url(self.edit_url_name, instance)

    def get_copy_url(self, instance):
        if self.copy_url_name and self.user_has_permission("add"):
            return self._row_url(self.copy_url_name, instance)

    def get_inspect_url(self, instance):
        if self.inspect_url_name and self.user_has_any_permission({"add", "change", "delete", "view"}):
            return self._row_url(self.inspect_url_name, instance)

    def get_delete_url(self, instance):
        if self.delete_url_name and self.user_has_permission("delete"):
            return self._row_url(self.delete_url_name, instance)


class _FilterChoicesInOneQuery(filter_fields.ModelChoiceIterator, ChoicesInOneQuery):
    """django-filter's options (with its "null" choice) read through ``ChoicesInOneQuery``."""


class _FilterChoiceField(filter_fields.ModelChoiceField):
    iterator = _FilterChoicesInOneQuery
    widget = OptionsInPythonSelect


class ModelChoiceFilter(django_filters.ModelChoiceFilter):
    """django-filter's ``ModelChoiceFilter`` whose options take one query (see above)."""

    field_class = _FilterChoiceField
