"""Who sees what: the viewer's identity, role and partner scope.

Identity comes from Streamlit's OIDC login (`st.login` / `st.user`) when `.streamlit/secrets.toml`
has an `[auth]` section; without one the app runs in local mode as admin, and says so.
Roles map emails to executive, partner_lead, finance or admin in the program settings
(`[roles."someone@example.com"]`); everyone else is denied (deny by default). A partner
lead's scope (the partner_manager values they own) reaches every query as `$managers`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

ROLES = ("executive", "partner_lead", "finance", "admin")
# Payout amounts, commissions and the finance pages.
FINANCE_ROLES = {"finance", "executive", "admin"}
# A manager value no partner has: a scope that matches nothing still filters (deny by default).
NO_PARTNER = "\x00no partner"


@dataclass(frozen=True)
class Viewer:
    email: str | None
    role: str | None
    # None = every partner; a list = only partners with one of these partner_manager values.
    managers: tuple[str, ...] | None
    local_mode: bool = False

    @property
    def sees_money(self) -> bool:
        """Payout amounts and commissions are confidential to finance, executives and admins."""
        return self.role in FINANCE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def scope(self, selected: list[str] | None) -> list[str] | None:
        """The managers a query may see: the selection, narrowed to the viewer's own partners."""
        if self.managers is None:
            return selected
        if selected:
            return [m for m in selected if m in self.managers] or [NO_PARTNER]
        return list(self.managers) or [NO_PARTNER]


LOCAL_ADMIN = Viewer(email=None, role="admin", managers=None, local_mode=True)


def viewer_for(user: dict, settings_json: str | None) -> Viewer | None:
    """The viewer for an `st.user` dict, or None when login is configured but not done yet.

    `is_logged_in` is absent from st.user when no [auth] section is configured (local mode).
    """
    logged_in = user.get("is_logged_in")
    if logged_in is None:
        return LOCAL_ADMIN
    if not logged_in:
        return None
    email = str(user.get("email") or "").lower()
    roles = json.loads(settings_json).get("roles", {}) if settings_json else {}
    entry = next((value for key, value in roles.items() if key.lower() == email), None)
    if entry is None:
        return Viewer(email=email, role=None, managers=())
    managers = tuple(entry.get("partner_managers") or ()) if entry["role"] == "partner_lead" else None
    return Viewer(email=email, role=entry["role"], managers=managers)
