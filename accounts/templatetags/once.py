"""``{% once_token %}``: the hidden one-time token of a form that creates something, placed
next to ``{% csrf_token %}`` (see accounts.once). A built-in tag (config.settings TEMPLATES),
so templates need no ``{% load %}``."""

from django import template
from django.utils.html import format_html

from accounts import once

register = template.Library()


@register.simple_tag(takes_context=True)
def once_token(context: template.Context) -> str:
    request = context.get("request")
    if request is None:  # an email or another template rendered without a request
        return ""
    return format_html(
        '<input type="hidden" name="{}" value="{}">', once.FIELD, once.new_token(request)
    )
