from django.apps import AppConfig


class CommandCenterConfig(AppConfig):
    name = "command_center"
    verbose_name = "指挥中心"
