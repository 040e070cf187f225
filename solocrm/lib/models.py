"""Abstract model bases shared by every app (no tables of their own)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .ids import uuid7


class PublicModel(models.Model):
    """A record with a UUID for URLs and the API (integer keys never leave the database).
    Time-ordered (version 7) so that inserts append to the unique index."""

    uuid = models.UUIDField(_("public id"), default=uuid7, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class SearchableQuerySet(models.QuerySet):
    """``bulk_create`` and ``bulk_update`` call no save(): they write the search text here, so
    every bulk writer (the demo, the orders import's new customers) keeps records findable."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for obj in objs:
            obj.search_text = obj.search_document()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        # A caller that passes "search_text" wrote it itself (the importer, from partial objects).
        if "search_text" not in fields and set(fields) & set(self.model.search_fields):
            objs = list(objs)
            for obj in objs:
                obj.search_text = obj.search_document()
            fields = [*fields, "search_text"]
        return super().bulk_update(objs, fields, *args, **kwargs)


class Searchable(models.Model):
    """A record found by global search: ``search_text`` (lib.search.search_text) is computed by
    ``search_document()`` whenever the record is saved with a field in ``search_fields``, and
    the database's index over it (lib.search_index) answers the search. Bulk writers that bypass
    save() (the importer, a company rename) write the text themselves."""

    search_fields: tuple[str, ...] = ()

    search_text = models.TextField(_("search text"), blank=True, default="", editable=False)

    objects = SearchableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None or set(update_fields) & set(self.search_fields):
            self.search_text = self.search_document()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def search_document(self) -> str:
        raise NotImplementedError

    @classmethod
    def search_queryset(cls):
        """The records ``search_document()`` reads (with what it joins): refreshes start here."""
        return cls._default_manager.all()
