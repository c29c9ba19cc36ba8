from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "recordroom.web"
    label = "web"
