"""Form markup (issue 10, items 3, 9 and 10): every group of radio buttons or checkboxes is a
fieldset named by its legend, each control with its own label right after it; a failed
submit opens on an error summary that takes the focus and links to each field; the staff
message form's buttons say what each does, and work without JavaScript.
"""

from __future__ import annotations

import lxml.html
import pytest
from django import forms
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.tenancy import agency_context
from requests_portal.models import Message, MessageKind
from tests.accounts.route_matrix import STAFF_ROUTES, url_for
from tests.requests_portal.helpers import body_of, file_request, mail_to, staff_url

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("agency_defaults", "fresh_rate_limits"),
]


def html_of(text: str):
    return lxml.html.fromstring(f"<div>{text}</div>")


def groups_of(page) -> dict[str, list[str]]:
    """Each fieldset's legend and the labels of its radio buttons and checkboxes, in order;
    every control is asserted to be followed by the label that names it."""
    found = {}
    for fieldset in page.iter("fieldset"):
        labels = []
        for control in fieldset.xpath(".//input[@type='radio' or @type='checkbox']"):
            label = control.getnext()
            assert label is not None and label.tag == "label", lxml.html.tostring(control)
            assert label.get("for") == control.get("id") != ""
            labels.append(label.text_content().strip())
        found[fieldset.find("legend").text_content().strip()] = labels
    return found


class Sample(forms.Form):
    colour = forms.ChoiceField(
        label="Colour",
        choices=[("r", "Red"), ("g", "Green")],
        widget=forms.RadioSelect,
        help_text="Pick one.",
    )
    toppings = forms.MultipleChoiceField(
        label="Toppings",
        choices=[("c", "Cheese"), ("o", "Olives")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    agree = forms.BooleanField(label="I agree", required=False)
    name = forms.CharField(label="Name")


def render_fields(form) -> str:
    return "".join(render_to_string("_field.html", {"field": field}) for field in form)


def test_field_template_draws_choice_groups_as_fieldsets_with_a_legend():
    page = html_of(render_fields(Sample()))

    assert groups_of(page) == {
        "Colour": ["Red", "Green"],
        "Toppings (optional)": ["Cheese", "Olives"],
    }
    # No label points at nothing (Django's label of a whole group has for="").
    assert not page.xpath("//label[@for='']")
    # The hint describes the whole group.
    [colour] = page.xpath("//fieldset[@id='id_colour']")
    assert colour.get("aria-describedby") == "id_colour_helptext"
    # A lone checkbox sits before its label; a text field keeps its label above it.
    [agree] = page.xpath("//input[@name='agree']")
    assert agree.getnext().tag == "label" and agree.getnext().get("for") == "id_agree"
    [name_label] = page.xpath("//label[@for='id_name']")
    assert name_label.getnext() is not None and name_label.getparent().tag == "div"


def test_a_group_in_error_is_described_by_its_error_and_the_summary_links_to_its_first_control():
    form = Sample(data={"name": ""})
    page = html_of(render_to_string("_form_errors.html", {"form": form}) + render_fields(form))

    [colour] = page.xpath("//fieldset[@id='id_colour']")
    assert colour.get("aria-describedby") == "id_colour_helptext id_colour_error"
    assert page.xpath("//*[@id='id_colour_error']")[0].text_content() == "This field is required."
    [summary] = page.xpath("//*[@id='error-summary']")
    links = {a.get("href"): a.text_content() for a in summary.iter("a")}
    assert links == {
        "#id_colour_0": "Colour: This field is required.",
        "#id_name": "Name: This field is required.",
    }
    # Each link lands on a control of the page.
    assert all(page.xpath(f"//input[@id='{href[1:]}']") for href in links)


def test_the_error_summary_takes_the_focus_with_and_without_javascript():
    page = html_of(render_to_string("_form_errors.html", {"form": Sample(data={})}))

    [summary] = page.xpath("//*[@id='error-summary']")
    assert summary.get("tabindex") == "-1"
    assert summary.get("autofocus") is not None
    [heading] = summary.xpath("h2")
    assert summary.get("aria-labelledby") == heading.get("id")
    assert heading.text_content() == "There is a problem"
    [script] = page.xpath("//script")
    assert script.get("src").endswith("js/error-summary.js")
    # Nothing at all when the form is fine.
    assert render_to_string("_form_errors.html", {"form": Sample()}).strip() == ""


def test_staff_request_page_groups_each_checkbox_list_under_a_legend(tenant, client_for):
    filed = file_request(tenant)
    page = html_of(body_of(client_for(tenant.admin, tenant.host).get(staff_url("detail", filed))))

    groups = groups_of(page)
    assert tenant.staff.email in groups["Email this note to (optional)"]
    assert groups["Departments (optional)"] == ["Clerk"]
    assert not page.xpath("//label[@for='']")


def message_buttons(page) -> dict[str, str]:
    [form] = [f for f in page.iter("form") if f.get("action", "").endswith("/message/")]
    buttons = form.xpath(".//button[@type='submit']")
    assert all(button.get("name") == "kind" for button in buttons)
    return {button.text_content(): button.get("value") for button in buttons}


def test_message_buttons_say_what_they_do(tenant, client_for):
    filed = file_request(tenant, email="rita@example.org")
    detail = staff_url("detail", filed)

    admin_page = html_of(body_of(client_for(tenant.admin, tenant.host).get(detail)))
    # The internal note first: it is what Enter in the form does (the first submit button).
    assert list(message_buttons(admin_page).items()) == [
        ("Save internal note", MessageKind.INTERNAL),
        ("Send to requester", MessageKind.TO_REQUESTER),
        ("Publish public note", MessageKind.PUBLIC_NOTE),
    ]
    # No "Type" menu hidden behind a bare "Save".
    assert not admin_page.xpath("//select[@name='kind']")
    assert "Save" not in message_buttons(admin_page)


def test_each_message_button_saves_its_own_kind_and_says_so(
    tenant, client_for, django_capture_on_commit_callbacks
):
    filed = file_request(tenant, email="rita@example.org")
    admin = client_for(tenant.admin, tenant.host)

    # What the browser sends for the button pressed (no JavaScript involved): its name=value.
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            staff_url("message", filed),
            {"kind": "to_requester", "body": "Which years?"},
            follow=True,
        )
    assert "Message sent to the requester." in body_of(response)
    [email] = mail_to("rita@example.org")
    assert "Which years?" in email.body

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            staff_url("message", filed),
            {"kind": "internal", "body": "Ask facilities."},
            follow=True,
        )
    assert "Internal note saved. Only staff can read it." in body_of(response)
    assert len(mail_to("rita@example.org")) == 1
    with agency_context(tenant.agency):
        kinds = list(
            Message.objects.filter(request_id=filed.pk)
            .order_by("pk")
            .values_list("kind", flat=True)
        )
    assert kinds == [MessageKind.TO_REQUESTER, MessageKind.INTERNAL]


def test_staff_who_may_not_write_to_the_requester_get_only_the_note_button(tenant, client_for):
    filed = file_request(tenant, point_of_contact=tenant.staff)
    page = html_of(body_of(client_for(tenant.staff, tenant.host).get(staff_url("detail", filed))))
    assert message_buttons(page) == {"Save internal note": MessageKind.INTERNAL}


def test_a_message_without_text_comes_back_with_a_focused_summary_linking_to_the_field(
    tenant, client_for
):
    filed = file_request(tenant)
    response = client_for(tenant.admin, tenant.host).post(
        staff_url("message", filed), {"kind": "internal", "body": ""}
    )

    assert response.status_code == 400
    page = html_of(body_of(response))
    [summary] = page.xpath("//*[@id='error-summary']")
    assert summary.get("autofocus") is not None and summary.get("tabindex") == "-1"
    assert [a.get("href") for a in summary.iter("a")] == ["#id_body"]
    assert page.xpath("//textarea[@id='id_body']")


def staff_pages_with_forms(tenant) -> list[str]:
    """Every page staff can open (as an admin, who sees every form), and the resident's."""
    urls = [reverse("request_new"), reverse("archive")]
    for route in STAFF_ROUTES:
        if route.is_post_only:
            continue
        urls.append(url_for(route, tenant, tenant.admin))
    return urls


def test_no_page_shows_a_dashed_placeholder_or_a_label_for_nothing(tenant, client_for):
    """Select menus say what their blank choice means ("Any department", "Nobody yet"), never
    Django's "---------"; no group is named by a label pointing at no control."""
    admin = client_for(tenant.admin, tenant.host)
    problems = {}
    for url in staff_pages_with_forms(tenant):
        response = admin.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = body_of(response)
        found = [text for text in ("---------", 'for=""') if text in body]
        if found:
            problems[url] = found
    assert problems == {}
