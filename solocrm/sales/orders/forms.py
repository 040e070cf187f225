"""Forms of the product catalogue."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from solocrm.lib.business import business_settings
from solocrm.lib.normalize import (
    MAX_MONEY,
    normalize_currency,
)
from solocrm.sales.orders.models import Product


class ProductForm(forms.ModelForm):
    """A product of the catalogue; quote and order lines keep their own copy of its values."""

    class Meta:
        model = Product
        fields = ["name", "sku", "price", "currency", "description", "active"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["currency"].required = False
        self.fields["currency"].help_text = _("Three letters (EUR, USD…); blank: %(default)s.") % {
            "default": business_settings().currency
        }

    def clean_price(self):
        price = self.cleaned_data["price"]
        if price is not None and not Decimal("0") <= price <= MAX_MONEY:
            raise forms.ValidationError(_("The price must be between 0 and %(max)s.") % {"max": MAX_MONEY})
        return price

    def clean_currency(self) -> str:
        try:
            return normalize_currency(self.cleaned_data["currency"], business_settings().currency)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def service_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    active = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All")), ("true", _("On sale")), ("false", _("Withdrawn"))],
    )
