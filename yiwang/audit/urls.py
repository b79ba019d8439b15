from django.urls import path

from yiwang.audit import views

app_name = "audit"
urlpatterns = [
    path("transparency/", views.transparency, name="transparency"),
]
