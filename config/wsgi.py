import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Load jieba's dictionary now (~1 s), so that with `gunicorn --preload` the workers inherit it
# instead of the first search of each worker paying for it.
from yiwang.catalog.search import ensure_jieba  # noqa: E402

ensure_jieba()
