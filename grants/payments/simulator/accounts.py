"""Connected accounts of the simulated Stripe: creation, onboarding, capabilities."""

from django.urls import reverse
from django.utils.http import urlencode

from grants.payments.gateway import ConnectedAccount, account_from_json

from .base import SimulatorBase, _metadata, _now, new_id

ONBOARDING_OUTCOMES = ("complete", "information_needed", "restricted")
CAPABILITY_STATUSES = ("active", "inactive", "pending")


class AccountsMixin(SimulatorBase):
    """Connected accounts (Express) and what the grantee does on Stripe's onboarding pages."""

    def create_connected_account(self, *, email, country="US", metadata, idempotency_key) -> ConnectedAccount:
        params = {
            "type": "express",
            "country": country,
            "email": email,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": _metadata(metadata),
        }

        def perform(request):
            due = ["business_profile.url", "external_account", "individual.verification.document"]
            return self._save(
                "account",
                {
                    "id": new_id("acct_"),
                    "object": "account",
                    "type": "express",
                    "country": country,
                    "email": email,
                    "default_currency": "usd",
                    "charges_enabled": False,
                    "payouts_enabled": False,
                    "details_submitted": False,
                    "capabilities": {"transfers": "inactive"},
                    "requirements": {
                        "currently_due": due,
                        "eventually_due": due,
                        "past_due": due,
                        "disabled_reason": "requirements.past_due",
                    },
                    "metadata": params["metadata"],
                    "created": _now(),
                },
            )

        call = {
            "email": email,
            "country": country,
            "metadata": params["metadata"],
            "idempotency_key": idempotency_key,
        }
        account = self._idempotent(
            "create_connected_account", "POST", "/v1/accounts", params, idempotency_key, perform, call
        )
        return account_from_json(account)

    def retrieve_account(self, account_id) -> ConnectedAccount:
        self._maybe_fail("retrieve_account")
        return account_from_json(self._get("account", account_id))

    def create_onboarding_link(self, *, account_id, refresh_url, return_url) -> str:
        self._maybe_fail("create_onboarding_link")
        self._get("account", account_id)
        query = urlencode({"return_url": return_url, "refresh_url": refresh_url})
        return f"{reverse('simulated_onboarding', args=[account_id])}?{query}"

    def complete_onboarding(self, account_id: str, outcome: str = "complete") -> ConnectedAccount:
        """The grantee leaves Stripe's onboarding with ``outcome``; emits ``account.updated`` (Connect).

        "complete": payouts enabled, nothing due. "information_needed": the grantee left before
        giving everything. "restricted": details submitted but verification failed (past due).
        """
        if outcome not in ONBOARDING_OUTCOMES:
            raise ValueError(f"outcome must be one of {ONBOARDING_OUTCOMES}")
        self._maybe_fail("complete_onboarding")
        with self._operation():
            account = self._get("account", account_id, for_update=True)
            before = {key: account[key] for key in ("charges_enabled", "payouts_enabled", "requirements")}
            before_transfers = account["capabilities"]["transfers"]
            if outcome == "complete":
                due, past_due, reason, enabled, submitted = [], [], None, True, True
            elif outcome == "information_needed":
                due, past_due, reason, enabled, submitted = (
                    ["individual.verification.document"],
                    [],
                    None,
                    False,
                    False,
                )
            else:
                due = past_due = ["individual.verification.document"]
                reason, enabled, submitted = "requirements.past_due", False, True
            account.update(
                charges_enabled=enabled,
                payouts_enabled=enabled,
                details_submitted=submitted,
                capabilities={"transfers": "active" if enabled else "inactive"},
                requirements={
                    "currently_due": due,
                    "eventually_due": due,
                    "past_due": past_due,
                    "disabled_reason": reason,
                },
            )
            self._save("account", account)
            self._emit("account.updated", account, account=account_id, previous=before)
            if self.adverse and before_transfers != account["capabilities"]["transfers"]:
                self._emit_capability(account, before_transfers)
        return account_from_json(account)

    def _emit_capability(self, account: dict, previous_status: str) -> None:
        # Shaped like Stripe's capability object (openapi fixtures: "capability").
        status = account["capabilities"]["transfers"]
        requirements = account["requirements"]
        capability = {
            "id": "transfers",
            "object": "capability",
            "account": account["id"],
            "requested": True,
            "requested_at": account["created"],
            "requirements": {
                "alternatives": [],
                "current_deadline": None,
                "currently_due": requirements["currently_due"],
                "disabled_reason": requirements["disabled_reason"] if status != "active" else None,
                "errors": [],
                "eventually_due": requirements["eventually_due"],
                "past_due": requirements["past_due"],
                "pending_verification": [],
            },
            "status": status,
        }
        self._emit(
            "capability.updated", capability, account=account["id"], previous={"status": previous_status}
        )

    def set_transfers_capability(self, account_id: str, status: str, *, reason: str | None = None) -> dict:
        """Stripe turns the account's transfers capability on or off (say, a verification lapsed):
        emits ``capability.updated`` and ``account.updated`` (both Connect events). Returns the account.
        """
        if status not in CAPABILITY_STATUSES:
            raise ValueError(f"status must be one of {CAPABILITY_STATUSES}")
        self._maybe_fail("set_transfers_capability")
        with self._operation():
            account = self._get("account", account_id, for_update=True)
            previous_status = account["capabilities"]["transfers"]
            before = {
                "capabilities": dict(account["capabilities"]),
                "payouts_enabled": account["payouts_enabled"],
            }
            account["capabilities"]["transfers"] = status
            account["payouts_enabled"] = status == "active" and not account["requirements"]["past_due"]
            if status != "active":
                account["requirements"]["disabled_reason"] = reason or "requirements.past_due"
            self._save("account", account)
            self._emit_capability(account, previous_status)
            self._emit("account.updated", account, account=account_id, previous=before)
        return account
