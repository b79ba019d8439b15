from django.urls import path

from yiwang.core.views import home

app_name = "audit"
urlpatterns = [path("transparency/", home, name="transparency")]
