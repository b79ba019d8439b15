from django.contrib import admin

from yiwang.audit.models import AuditEntry, SignedTreeHead


class ReadOnlyAdmin(admin.ModelAdmin):
    """The log is append-only: the admin may look, never change."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["leaf_index", "created_at", "event", "actor_type", "actor_id", "target_type", "target_id"]
    list_filter = ["actor_type"]
    search_fields = ["event", "target_id", "request_id"]
    ordering = ["-leaf_index"]
    show_full_result_count = False


@admin.register(SignedTreeHead)
class SignedTreeHeadAdmin(ReadOnlyAdmin):
    list_display = ["tree_size", "timestamp", "key_id"]
    ordering = ["-timestamp"]
