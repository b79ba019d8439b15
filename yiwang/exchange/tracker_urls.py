"""Addresses of the citizen's data-use record and the stewards' answers (namespace ``tracker``)."""

from django.urls import path

from yiwang.exchange import tracker_views

app_name = "tracker"
urlpatterns = [
    path("account/data-uses/", tracker_views.use_list, name="uses"),
    path("account/data-uses/<str:pk>/", tracker_views.use_detail, name="use"),
    path("workbench/data/questions/", tracker_views.question_list, name="questions"),
    path("workbench/data/questions/<str:pk>/", tracker_views.question_detail, name="question"),
]
