"""Refuse an attachment upload through the API by its declared size, before the body is read.

django-ninja parses the multipart body (spooling the file to disk) before the endpoint runs,
so the endpoint alone could only refuse an oversize file after receiving all of it."""

from __future__ import annotations

from django.http import JsonResponse

ATTACHMENT_API_PATH = "/api/v1/attachments"


class AttachmentSizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST" and request.path.rstrip("/") == ATTACHMENT_API_PATH:
            from solocrm.sales.quotes.attachments import declared_too_large, too_large_message

            if declared_too_large(request):
                return JsonResponse({"detail": too_large_message()}, status=413)
        return self.get_response(request)
