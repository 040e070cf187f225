"""The knowledge base's staff forms: the article editor (both languages at once), categories,
the help centre's switches and the articles list's filter. They validate input and call
solocrm.support.kb.services to write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from solocrm.lib.filters import storable

from . import services
from .choices import ArticleStatus, Language
from .models import Article, Category, HelpCenter

MAX_BODY = 100_000
# The form's field suffix per language ("title_en", "body_zh_hans").
SUFFIXES = {Language.EN: "en", Language.ZH_HANS: "zh_hans"}


class _Storable:
    """Text the database cannot store (NUL, lone surrogates) is a field error, not a 500."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            try:
                storable(value)
            except ValueError as error:
                self.add_error(name, str(error))
        return cleaned


class ArticleForm(_Storable, forms.ModelForm):
    """The editor: what both languages share, then each language's title and Markdown body."""

    title_en = forms.CharField(label=_("Title"), max_length=200, required=False)
    body_en = forms.CharField(
        label=_("Text (Markdown)"),
        max_length=MAX_BODY,
        required=False,
        widget=forms.Textarea(attrs={"rows": 16}),
    )
    title_zh_hans = forms.CharField(label=_("Title"), max_length=200, required=False)
    body_zh_hans = forms.CharField(
        label=_("Text (Markdown)"),
        max_length=MAX_BODY,
        required=False,
        widget=forms.Textarea(attrs={"rows": 16}),
    )

    class Meta:
        model = Article
        fields = ["category", "status", "indexable", "slug"]
        help_texts = {"slug": _("The end of the public address; blank: made from the title.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["category"].empty_label = _("No category")
        if self.instance.pk:
            for language, version in self.instance.versions().items():
                self.initial[f"title_{SUFFIXES[language]}"] = version.title
                self.initial[f"body_{SUFFIXES[language]}"] = version.body
        for language, suffix in SUFFIXES.items():
            # The preview below each text area follows it as the author types (htmx).
            self.fields[f"body_{suffix}"].widget.attrs.update(
                {
                    "lang": language,
                    # The whole form is posted (htmx sends the enclosing form): ?language= says
                    # which text area this preview is for.
                    "hx-post": reverse("kb:preview") + f"?language={language}",
                    "hx-trigger": "input changed delay:600ms, load",
                    "hx-target": f"#preview-{suffix}",
                    "hx-swap": "innerHTML",
                }
            )
            self.fields[f"title_{suffix}"].widget.attrs["lang"] = language

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not any(cleaned.get(f"title_{suffix}", "").strip() for suffix in SUFFIXES.values()):
            self.add_error(None, _("Give the article a title in at least one language."))
        for suffix in SUFFIXES.values():
            if (cleaned.get(f"body_{suffix}") or "").strip() and not (
                cleaned.get(f"title_{suffix}") or ""
            ).strip():
                self.add_error(f"title_{suffix}", _("A text needs a title."))
        return cleaned

    def versions(self) -> dict[str, dict[str, str]]:
        return {
            language: {
                "title": self.cleaned_data[f"title_{suffix}"],
                "body": self.cleaned_data[f"body_{suffix}"],
            }
            for language, suffix in SUFFIXES.items()
        }

    def save(self, commit: bool = True, *, actor=None) -> Article:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        try:
            if self.instance.pk:
                return services.update_article(self.instance, data, self.versions(), actor=actor)
            return services.create_article(data, self.versions(), actor=actor)
        except services.ArticleError as error:
            field = error.field if error.field in self.fields else None
            self.add_error(field, str(error))
            raise


class CategoryForm(_Storable, forms.ModelForm):
    class Meta:
        model = Category
        fields = ["name_en", "name_zh_hans", "slug", "order"]
        help_texts = {"slug": _("The end of the public address; blank: made from the name.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["name_zh_hans"].widget.attrs["lang"] = Language.ZH_HANS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not (cleaned.get("name_en") or cleaned.get("name_zh_hans")):
            self.add_error("name_en", _("Give the category a name in at least one language."))
        return cleaned

    def save(self, commit: bool = True, *, actor=None) -> Category:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields}
        try:
            if self.instance.pk:
                return services.update_category(self.instance, data, actor=actor)
            return services.create_category(data, actor=actor)
        except services.ArticleError as error:
            self.add_error(error.field if error.field in self.fields else None, str(error))
            raise


class HelpCenterForm(forms.ModelForm):
    class Meta:
        model = HelpCenter
        fields = ["public", "indexable"]

    def save(self, commit: bool = True, *, actor=None) -> HelpCenter:
        return services.update_help_center(self.cleaned_data, actor=actor)


class ArticleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    category = forms.ChoiceField(label=_("Category"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All")), *ArticleStatus.choices]
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("Any")), *Language.choices]
    )

    def __init__(self, *args, categories: list[Category], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            ("", _("All")),
            *((category.slug, str(category)) for category in categories),
            ("none", _("No category")),
        ]
