"""Security headers on every response: Content-Security-Policy and Permissions-Policy.

Django's SecurityMiddleware already sends nosniff, Referrer-Policy, Cross-Origin-Opener-Policy and
HSTS, and XFrameOptionsMiddleware `X-Frame-Options: DENY`. This adds the policy that stops an
injected script from running: scripts only from Telora's own static files (no inline `<script>`,
no `onclick=`, no eval), no plugins, no framing, forms posting only to Telora. A view that needs
another policy (the Swagger page) sets its own header, which is kept.

The policy is the setting TELORA_CSP (docs/install.md); TELORA_CSP_REPORT_ONLY sends it as
`Content-Security-Policy-Report-Only` to try a stricter one without breaking pages.
"""

from __future__ import annotations

from django.conf import settings

CSP = "Content-Security-Policy"
CSP_REPORT_ONLY = "Content-Security-Policy-Report-Only"


def policy(directives: dict[str, str]) -> str:
    """`{"default-src": "'self'", ...}` as a header value."""
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.csp = policy(settings.TELORA_CSP) if isinstance(settings.TELORA_CSP, dict) else settings.TELORA_CSP
        self.csp_header = CSP_REPORT_ONLY if settings.TELORA_CSP_REPORT_ONLY else CSP
        self.permissions = settings.TELORA_PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.csp and CSP not in response and CSP_REPORT_ONLY not in response:
            response[self.csp_header] = self.csp
        if self.permissions:
            response.setdefault("Permissions-Policy", self.permissions)
        return response
