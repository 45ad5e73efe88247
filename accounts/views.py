from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_http_methods

from . import throttle
from .forms import EmailAuthenticationForm, InvitationAcceptForm, QueuedPasswordResetForm, SignupForm
from .models import normalize_email
from .services import (
    AccountError,
    invitation_accept,
    invitation_get_by_token,
    user_register,
)


def _throttled(request: HttpRequest, refusal: throttle.Throttled) -> HttpResponse:
    return render(request, "accounts/throttled.html", {"reason": refusal.message}, status=429)


class SignInView(auth_views.LoginView):
    """The one sign-in page of a tenant (its admin's login redirects here); throttled in the form."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled is not None:
            response.status_code = 429
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tenant = getattr(self.request, "tenant", None)
        context["self_registration"] = bool(tenant and tenant.allow_self_registration)
        return context


class SignOutView(auth_views.LogoutView):
    pass


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset_body.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    form_class = QueuedPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Every request counts, for whatever e-mail: the answer never tells whether it has an account.
        try:
            throttle.attempt(
                scope=throttle.RESET_REQUEST,
                account=normalize_email(form.cleaned_data["email"]),
                address=throttle.client_address(self.request),
            )
        except throttle.Throttled as refusal:
            form.add_error(None, refusal.message)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        self.extra_email_context = {"brand_name": self.request.tenant.brand_name}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = True
    post_reset_login_backend = "accounts.backends.RoleBackend"

    def get_user(self, uidb64):
        if not hasattr(self, "_link_user"):
            self._link_user = super().get_user(uidb64)
        return self._link_user

    def dispatch(self, *args, **kwargs):
        # Counted per address, and per account when the link names one here; a valid link
        # takes itself off. A link naming nobody has no account to protect.
        user = self.get_user(kwargs.get("uidb64", ""))
        where: throttle.Where = {
            "scope": throttle.RESET_CONFIRM,
            "account": f"user:{user.pk}" if user is not None else None,
            "address": throttle.client_address(self.request),
        }
        try:
            throttle.attempt(**where)
        except throttle.Throttled as refusal:
            return _throttled(self.request, refusal)
        response = super().dispatch(*args, **kwargs)
        # A good token redirects to the form (without the token in the URL); the form has validlink.
        if self.validlink or response.status_code == 302:
            throttle.succeeded(**where)
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. You are signed in.")
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def _welcome(request: HttpRequest, user) -> HttpResponse:
    """Sign a newly created account in and take it to the front page."""
    login(request, user, backend="accounts.backends.RoleBackend")
    messages.success(request, "Welcome! Your account is ready.")
    return redirect("home")


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    # Per address only: a guessed token names no account. Unknown tokens stay counted.
    where: throttle.Where = {
        "scope": throttle.INVITATION,
        "account": None,
        "address": throttle.client_address(request),
    }
    try:
        throttle.attempt(**where)
    except throttle.Throttled as refusal:
        return _throttled(request, refusal)
    try:
        invitation = invitation_get_by_token(token=token)
    except AccountError as exc:
        return render(request, "accounts/invitation_invalid.html", {"reason": str(exc)}, status=404)
    throttle.succeeded(**where)
    if invitation.state != "pending":
        reasons = {
            "accepted": "This invitation was already used. Sign in with your e-mail and password.",
            "revoked": "This invitation was withdrawn. Ask your administrator for a new one.",
            "expired": "This invitation has expired. Ask your administrator for a new one.",
        }
        return render(
            request, "accounts/invitation_invalid.html", {"reason": reasons[invitation.state]}, status=410
        )
    form = InvitationAcceptForm(request.POST or None, initial={"email": invitation.email})
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(
                token=token, full_name=form.cleaned_data["full_name"], password=form.cleaned_data["password1"]
            )
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            return _welcome(request, user)
    return render(request, "accounts/invitation_accept.html", {"form": form, "invitation": invitation})


@require_http_methods(["GET", "POST"])
def signup_view(request: HttpRequest) -> HttpResponse:
    if not request.tenant.allow_self_registration:
        return render(request, "accounts/signup_closed.html", status=403)
    if request.user.is_authenticated:
        return redirect("home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_register(
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
            )
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            return _welcome(request, user)
    return render(request, "accounts/signup.html", {"form": form})
