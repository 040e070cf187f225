from django.contrib import admin

from .models import MailAccount, MailAttachment, MailFolderState, MailMessage, MailThread


class FolderStateInline(admin.TabularInline):
    model = MailFolderState
    extra = 0
    readonly_fields = ["folder", "uidvalidity", "last_uid", "last_sync_at", "last_error"]


@admin.register(MailAccount)
class MailAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "imap_host", "is_support", "active", "last_sync_at"]
    readonly_fields = ["uuid", "last_sync_at", "last_error", "created_at", "updated_at"]
    inlines = [FolderStateInline]


@admin.register(MailThread)
class MailThreadAdmin(admin.ModelAdmin):
    list_display = ["subject", "contact", "last_message_at"]
    search_fields = ["subject"]
    raw_id_fields = ["contact"]


class AttachmentInline(admin.TabularInline):
    model = MailAttachment
    extra = 0
    readonly_fields = ["filename", "content_type", "size", "inline"]


@admin.register(MailMessage)
class MailMessageAdmin(admin.ModelAdmin):
    list_display = ["subject", "from_address", "direction", "date", "contact", "auth_failed"]
    list_filter = ["direction", "auth_failed"]
    search_fields = ["subject", "from_address", "message_id"]
    raw_id_fields = ["contact", "thread", "account"]
    readonly_fields = ["uuid", "message_key", "html", "created_at", "updated_at"]
    inlines = [AttachmentInline]
    show_full_result_count = False
