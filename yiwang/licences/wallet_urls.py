"""The wallet's addresses (证照夹, 亮证) and the short public link of a QR code (``/p/<token>``:
kept short, it is what the QR code carries). Its own namespace, ``wallet``."""

from django.urls import path

from yiwang.licences import wallet

app_name = "wallet"
urlpatterns = [
    path("wallet/", wallet.wallet_list, name="list"),
    path("wallet/<str:pk>/", wallet.wallet_licence, name="licence"),
    path("wallet/<str:pk>/show/", wallet.wallet_present, name="present"),
    path("p/<str:token>", wallet.presentation, name="presentation"),
]
