from django.conf import settings

CARE_COOKIE = "yiwang_care"


def site(request):
    return {
        "site_name": settings.SITE_NAME,
        "care_mode": request.COOKIES.get(CARE_COOKIE) == "1",
    }
