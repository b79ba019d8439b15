from django.conf import settings

from yiwang.lib.bilingual import pick

CARE_COOKIE = "yiwang_care"


def site(request):
    return {
        "site_name": pick(settings.SITE_NAME),  # "中文 | English", in the reader's language
        "care_mode": request.COOKIES.get(CARE_COOKIE) == "1",
    }
