"""URLs of a tenant's site (<slug>.<base-domain>)."""

from django.urls import include, path

from accounts.admin_site import tenant_admin_site
from assessments import urls as assessment_urls
from courses import urls as course_urls
from enrollments import urls as enrollment_urls

from .health import healthz
from .views import catalog_page, home

# One `courses` namespace for every /courses/ page: staff previews come from the courses
# app, the landing and enroll pages from enrollments (they need the learner's enrollment,
# and courses may not import enrollments).
course_pages = (course_urls.urlpatterns + enrollment_urls.course_urlpatterns, "courses")

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("courses/", catalog_page, name="catalog"),
    path("courses/", include(course_pages)),
    path("learning/", include("enrollments.urls")),
    path("assessments/", include("assessments.urls")),
    path("certificates/", include((assessment_urls.certificate_urlpatterns, "certificates"))),
    path("media/", include("media_delivery.urls")),
    path("builder/", include("builder.urls")),
    path("admin/", tenant_admin_site.urls),
    path("analytics/", include("analytics.urls")),
    path("api/v1/", include("api.urls")),
]

handler400 = "lms.views.bad_request"
handler403 = "lms.views.permission_denied"
handler404 = "lms.views.page_not_found"
handler500 = "lms.views.server_error"
