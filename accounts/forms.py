from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from core.celery import enqueue_on_commit

from . import throttle
from .models import Invitation, User, normalize_email
from .tasks import email_send_task


class ThrottledSignInMixin:
    """Asks the sign-in throttle before the password is checked (ADR 0070).

    `throttled` holds the refusal when the attempt had to wait; the view answers 429.
    """

    throttled: throttle.Throttled | None = None

    def clean(self):
        email = normalize_email(self.data.get("username", ""))
        if not email or not self.data.get("password"):
            return super().clean()
        where = {"scope": throttle.SIGNIN, "account": email, "address": throttle.client_address(self.request)}
        try:
            throttle.attempt(**where)
        except throttle.Throttled as exc:
            self.throttled = exc
            raise forms.ValidationError(exc.message, code="throttled") from None
        cleaned = super().clean()  # a wrong password raises here and stays counted
        throttle.succeeded(**where)
        return cleaned


class OperatorAuthenticationForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The operator admin's sign-in on the root domain, throttled like a tenant's."""


class EmailAuthenticationForm(ThrottledSignInMixin, AuthenticationForm):
    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )
    error_messages = {
        "invalid_login": "That e-mail and password do not match an account on this site.",
        "inactive": "This account is deactivated. Ask your administrator.",
    }


class QueuedPasswordResetForm(PasswordResetForm):
    """Sends the reset e-mail through Celery, so a slow mail server never slows the page."""

    def get_users(self, email):
        # Unlike Django's form, include people without a usable password: a first admin
        # who lost create_tenant's link must still get in. We have no external sign-in
        # (LDAP, SSO) whose accounts this would wrongly open.
        return User.objects.filter(email=normalize_email(email), is_active=True)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        from django.template import loader

        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        enqueue_on_commit(email_send_task, to=to_email, subject=subject, body=body)


class _PasswordPair(forms.Form):
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        p1, p2 = cleaned.get("password1"), cleaned.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            probe = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(p1, user=probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class InvitationAcceptForm(_PasswordPair):
    full_name = forms.CharField(label="Your name", max_length=150)
    field_order = ["full_name", "password1", "password2"]


class SignupForm(_PasswordPair):
    full_name = forms.CharField(label="Your name", max_length=150)
    email = forms.EmailField(label="E-mail", max_length=254)
    field_order = ["full_name", "email", "password1", "password2"]

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("This e-mail already has an account here. Sign in instead.")
        return email


class UserAdminForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("full_name", "role", "is_active")


class InvitationAdminForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ("email", "role")

    def clean_email(self):
        email = normalize_email(self.cleaned_data["email"])
        if User.objects.filter(email=email).exists():
            raise forms.ValidationError("This person already has an account here.")
        return email
