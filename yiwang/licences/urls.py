"""Electronic licences (电子证照) as SD-JWT VCs, their issuers' keys and status lists; e-seals."""

from django.urls import path

from yiwang.licences import pdf_views, views

app_name = "licences"
urlpatterns = [
    path(
        ".well-known/jwt-vc-issuer/licences/issuers/<str:code>", views.issuer_metadata, name="issuer_metadata"
    ),
    path("licences/issuers/<str:code>", views.issuer, name="issuer"),
    path("licences/status/<str:code>/<int:number>", views.status_list, name="status_list"),
    path("verify/", views.verify_page, name="verify"),
    path("wallet/<str:pk>/licence.pdf", pdf_views.licence_pdf_download, name="licence_pdf"),
    path("workbench/licences/", views.department_list, name="department_list"),
    path("workbench/licences/issue/", views.issue, name="issue"),
    path("workbench/licences/keys/", views.keys, name="keys"),
    path("workbench/licences/trusted-issuers/", views.trusted_issuers, name="trusted_issuers"),
    path("workbench/licences/<str:pk>/", views.department_licence, name="department_licence"),
]
