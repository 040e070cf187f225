"""The product catalogue pages: list (search, on sale / withdrawn, paginated), add, edit,
withdraw from sale and delete. Writes go through solocrm.sales.services."""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from solocrm.lib.access import get_for, role_required
from solocrm.lib.http import vary_on_htmx, wants_partial
from solocrm.lib.roles import Action
from solocrm.sales.orders import services
from solocrm.sales.orders.filters import ProductFilter
from solocrm.sales.orders.forms import ProductFilterForm, ProductForm
from solocrm.sales.orders.models import Product

PRODUCTS_PER_PAGE = 50


@role_required(Action.VIEW)
def product_list(request: HttpRequest) -> HttpResponse:
    try:
        product_filter = ProductFilter.model_validate(
            {key: request.GET.get(key, "") for key in ("q", "active", "ordering")}
        )
    except ValidationError:
        messages.warning(request, _("Some filters were not understood and are ignored."))
        product_filter = ProductFilter()
    products = product_filter.apply(Product.objects.all())
    context = {
        "page": Paginator(products, PRODUCTS_PER_PAGE).get_page(request.GET.get("page")),
        "filter_form": ProductFilterForm(initial=request.GET.dict()),
        "filtered": bool(product_filter.q or product_filter.active is not None),
    }
    template = "sales/product_results.html" if wants_partial(request) else "sales/product_list.html"
    return vary_on_htmx(render(request, template, context))


@role_required(Action.EDIT)
def product_create(request: HttpRequest) -> HttpResponse:
    return _product_form(request, None)


def product_edit(request: HttpRequest, public_id) -> HttpResponse:
    return _product_form(request, get_for(request.user, Product, public_id, Action.EDIT))


def _product_form(request: HttpRequest, product: Product | None) -> HttpResponse:
    form = ProductForm(request.POST or None, instance=Product() if product is None else _copy(product))
    if request.method == "POST" and form.is_valid():
        if product is None:
            saved = services.create_product(form.service_data(), actor=request.user)
        else:
            saved = services.update_product(product, form.service_data(), actor=request.user)
        messages.success(request, _("Product “%(name)s” saved.") % {"name": saved})
        return redirect("sales:product_list")
    return render(request, "sales/product_form.html", {"form": form, "product": product})


def _copy(product: Product) -> Product:
    # The form writes onto its instance while validating; the service must see the old values.
    return copy.copy(product)


@require_POST
def product_toggle_active(request: HttpRequest, public_id) -> HttpResponse:
    """Withdraw a product from sale (it stays on old quotes and orders) or put it back."""
    product = get_for(request.user, Product, public_id, Action.EDIT)
    services.update_product(product, {"active": not product.active}, actor=request.user)
    if product.active:
        messages.success(request, _("“%(name)s” is on sale again.") % {"name": product})
    else:
        messages.success(request, _("“%(name)s” is withdrawn from sale.") % {"name": product})
    return redirect("sales:product_list")


def product_delete(request: HttpRequest, public_id) -> HttpResponse:
    """A confirmation page; the POST deletes (owners only). Lines keep their copies."""
    product = get_for(request.user, Product, public_id, Action.DELETE)
    if request.method == "POST":
        name = str(product)
        services.delete_product(product, actor=request.user)
        messages.success(request, _("Product “%(name)s” deleted.") % {"name": name})
        return redirect("sales:product_list")
    return render(request, "sales/product_confirm_delete.html", {"product": product})
