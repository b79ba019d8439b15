from django.urls import path

from yiwang.audit import views

app_name = "audit"
urlpatterns = [
    path("transparency/", views.transparency, name="transparency"),
    path("transparency/records/", views.records, name="records"),
    path("account/records/", views.my_records, name="my_records"),
]
