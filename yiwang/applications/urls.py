from django.urls import path

from yiwang.applications import document_views, licence_views, modeler, views

app_name = "applications"
urlpatterns = [
    path("apply/<str:code>/", views.apply, name="apply"),
    path("apply-bundle/<slug:code>/", views.apply_bundle, name="apply_bundle"),
    path("bundle-cases/<int:pk>/", views.bundle_case, name="bundle_case"),
    path("bundle-cases/<int:pk>/licences/", licence_views.bundle_licence_use, name="bundle_licence_use"),
    path(
        "bundle-cases/<int:pk>/licences/<int:material>/withdraw/",
        licence_views.bundle_licence_withdraw,
        name="bundle_licence_withdraw",
    ),
    path("cases/", views.my_cases, name="my_cases"),
    path("cases/<str:number>/", views.case_page, name="case"),
    path("cases/<str:number>/edit/", views.edit, name="edit"),
    path("cases/<str:number>/materials/", views.upload, name="upload"),
    path("cases/<str:number>/delete/", views.discard, name="discard"),
    path("cases/<str:number>/materials/<int:pk>/remove/", views.remove_attachment, name="remove_attachment"),
    path("cases/<str:number>/files/<int:pk>/", views.attachment_file, name="file"),
    path("cases/<str:number>/licences/", licence_views.licence_use, name="licence_use"),
    path(
        "cases/<str:number>/licences/<int:material>/withdraw/",
        licence_views.licence_withdraw,
        name="licence_withdraw",
    ),
    path("cases/<str:number>/supplement/", views.supplement, name="supplement"),
    path("cases/<str:number>/withdraw/", views.withdraw, name="withdraw"),
    path("cases/<str:number>/rate/", views.rate, name="rate"),
    path("cases/<str:number>/documents/<str:kind>/", document_views.document, name="document"),
    path("cases/<str:number>/delivery/", document_views.choose_delivery, name="delivery"),
    path("track/", views.track, name="track"),
    path("notices/", views.notices, name="notices"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/tasks/<int:pk>/", views.task_page, name="task"),
    path("workbench/cases/<str:number>/", views.official_case, name="official_case"),
    path("workbench/waits/", views.waits, name="waits"),
    path("workbench/processes/", views.processes, name="processes"),
    path("workbench/processes/<str:code>/", views.process_item, name="process_item"),
    path("workbench/processes/<str:code>/v<int:version>/", views.process_version, name="process_version"),
    path(
        "workbench/processes/<str:code>/v<int:version>/activate/",
        views.process_activate,
        name="process_activate",
    ),
    path(
        "workbench/processes/<str:code>/v<int:version>/<str:kind>/",
        views.process_download,
        name="process_download",
    ),
    path("workbench/rectifications/", views.rectifications, name="rectifications"),
    path("workbench/processes/<str:code>/modeler/", modeler.process_modeler, name="process_modeler"),
    path("workbench/processes/<str:code>/form/", modeler.form_editor, name="form_editor"),
]
