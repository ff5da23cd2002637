from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    # One message for a wrong password and an unknown email, so nobody learns who has an
    # account; plain language, and no claim of case sensitivity (email is not).
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email address and password do not match an account. "
        "Check them and try again.",
    }
