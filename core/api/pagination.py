from collections.abc import Callable, Sequence
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property
from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from core.api.query import REPEATED

# (offset, limit) -> the page's rows.
PageLoader = Callable[[int, int], Sequence]
MAX_OFFSET = 2**62
# (offset, limit) -> the page's rows, and the total number of rows, or None when the page is
# empty (and the total unknown).
CountedPageLoader = Callable[[int, int], tuple[Sequence, int | None]]


class KnownCountPaginator(Paginator):
    """Django's paginator, skipping COUNT(*) when the caller already knows the total, and
    letting the caller load a page's rows its own way (`page_loader` receives the page's
    offset and size), or load a page and learn the total with it
    (`counted_page_loader`: then no COUNT runs at all)."""

    object_list: QuerySet

    def __init__(
        self,
        object_list: QuerySet,
        per_page: int,
        *,
        known_count: int | None = None,
        page_loader: PageLoader | None = None,
        counted_page_loader: CountedPageLoader | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = known_count
        self.page_loader = page_loader
        self.counted_page_loader = counted_page_loader

    @cached_property
    def count(self):
        return self.known_count if self.known_count is not None else super().count

    def page(self, number):
        if self.counted_page_loader is not None:
            return self._counted_page(number)
        # Slice by page size alone: Django trims the last page to `count`, and a known count a
        # moment old must not hide rows that exist.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if self.page_loader is not None:
            return Page(self.page_loader(bottom, self.per_page), number, self)
        return Page(self.object_list[bottom : bottom + self.per_page], number, self)

    def _counted_page(self, number):
        # The page first, then its number checked against the total that came with it. An
        # empty page past the first is past the last page (a 404), whatever the total.
        assert self.counted_page_loader is not None
        try:
            number = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger("That page number is not an integer") from exc
        if number < 1:
            raise EmptyPage("That page number is less than 1")
        offset = (number - 1) * self.per_page
        if offset > MAX_OFFSET:
            # No table is that long, and the database could not take the number (BIGINT).
            raise EmptyPage("That page contains no results")
        rows, total = self.counted_page_loader(offset, self.per_page)
        if total is None:
            if number > 1 or not self.allow_empty_first_page:
                raise EmptyPage("That page contains no results")
            total = 0
        self.__dict__["count"] = total  # the cached_property's value
        return Page(rows, number, self)


def _positive_int_param(request, name: str, *, maximum: int | None = None) -> None:
    values = request.query_params.getlist(name)
    if not values:
        return
    if len(values) > 1:
        raise ValidationError({name: [REPEATED]})
    raw = values[0]
    # ASCII digits only: str.isdigit() also accepts "²", which int() then refuses.
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        raise ValidationError({name: ["Must be a positive integer."]})
    if maximum is not None and int(raw) > maximum:
        raise ValidationError({name: [f"Must be at most {maximum}."]})


class PageNumberPagination(pagination.PageNumberPagination):
    """20 per page; `page_size` may ask for 1 to 20. Malformed or out-of-range `page`/`page_size`
    are a 400 naming the parameter (DRF alone would 404, ignore them or cap the size silently),
    so the bounds the schema states are the ones enforced.

    A view may set `known_count` before paginating (a cached total) to spare the COUNT(*), and
    `page_loader` to fetch the page's rows itself (see KnownCountPaginator)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 20
    known_count: int | None = None
    page_loader: PageLoader | None = None
    counted_page_loader: CountedPageLoader | None = None

    # DRF only calls it, so a factory method stands in for the class that the stubs expect.
    def django_paginator_class(  # type: ignore[override]
        self, object_list: QuerySet, per_page: int
    ) -> KnownCountPaginator:
        return KnownCountPaginator(
            object_list,
            per_page,
            known_count=self.known_count,
            page_loader=self.page_loader,
            counted_page_loader=self.counted_page_loader,
        )

    def paginate_queryset(self, queryset, request, view=None):
        _positive_int_param(request, self.page_query_param)
        _positive_int_param(request, self.page_size_query_param, maximum=self.max_page_size)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_query_param:
                parameter["description"] = "Page number, from 1; past the last page is a 404."
            else:
                parameter["schema"]["maximum"] = self.max_page_size
                parameter["description"] = f"Results per page, 1 to {self.max_page_size}."
        return parameters
