from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "credit"
    verbose_name = "红黄绿信用"
