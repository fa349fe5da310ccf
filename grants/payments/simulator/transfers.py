"""Transfers of the simulated Stripe: to connected accounts, reversals, listing."""

from collections.abc import Iterator

from grants.money import to_minor_units
from grants.payments.gateway import (
    PaymentError,
    Transfer,
    TransferReversal,
    reversal_from_json,
    transfer_from_json,
)

from .base import SimulatorBase, _metadata, _now, _public, new_id
from .models import SimulatedStripeObject


class TransfersMixin(SimulatorBase):
    """Transfers from the platform balance to connected accounts."""

    def create_transfer(self, *, amount, destination, transfer_group, metadata, idempotency_key) -> Transfer:
        params = {
            "amount": to_minor_units(amount),
            "currency": str(amount.currency).lower(),
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": _metadata(metadata),
        }

        def perform(request):
            account = self._get("account", destination)
            if account["capabilities"].get("transfers") != "active":
                raise PaymentError("invalid_request", code="insufficient_capabilities_for_transfer")
            if self._enforces_balance() and self.balance().get(params["currency"], 0) < params["amount"]:
                # Stripe's answer when the platform's available balance cannot cover a transfer.
                raise PaymentError("insufficient_balance", code="balance_insufficient")
            self._move_balance(params["currency"], -params["amount"])
            transfer_id = new_id("tr_")
            transfer = self._save(
                "transfer",
                {
                    "id": transfer_id,
                    "object": "transfer",
                    "amount": params["amount"],
                    "amount_reversed": 0,
                    "balance_transaction": new_id("txn_"),
                    "currency": params["currency"],
                    "created": _now(),
                    "description": None,
                    "destination": destination,
                    "destination_payment": new_id("py_"),
                    "livemode": False,
                    "metadata": params["metadata"],
                    "reversals": {
                        "object": "list",
                        "data": [],
                        "has_more": False,
                        "total_count": 0,
                        "url": f"/v1/transfers/{transfer_id}/reversals",
                    },
                    "reversed": False,
                    "source_transaction": None,
                    "transfer_group": transfer_group,
                },
            )
            self._emit("transfer.created", transfer, request=request)
            return transfer

        call = {
            "amount": amount,
            "destination": destination,
            "transfer_group": transfer_group,
            "metadata": params["metadata"],
            "idempotency_key": idempotency_key,
        }
        transfer = self._idempotent(
            "create_transfer", "POST", "/v1/transfers", params, idempotency_key, perform, call
        )
        return transfer_from_json(transfer)

    def reverse_transfer(self, *, transfer_id, amount, metadata, idempotency_key) -> TransferReversal:
        params = {"metadata": _metadata(metadata)}
        if amount is not None:
            params.update(amount=to_minor_units(amount), currency=str(amount.currency).lower())

        def perform(request):
            transfer = self._get("transfer", transfer_id, for_update=True)
            remaining = transfer["amount"] - transfer["amount_reversed"]
            value = params.get("amount", remaining)
            if (
                params.get("currency", transfer["currency"]) != transfer["currency"]
                or not 0 < value <= remaining
            ):
                raise PaymentError("invalid_request", code="transfer_reversal_invalid_amount")
            reversal = self._save(
                "transfer_reversal",
                {
                    "id": new_id("trr_"),
                    "object": "transfer_reversal",
                    "amount": value,
                    "currency": transfer["currency"],
                    "created": _now(),
                    "destination_payment_refund": new_id("pyr_"),
                    "metadata": params["metadata"],
                    "transfer": transfer_id,
                },
            )
            previous = {"amount_reversed": transfer["amount_reversed"], "reversed": transfer["reversed"]}
            transfer["amount_reversed"] += value
            transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
            transfer["reversals"]["data"].insert(0, reversal)
            transfer["reversals"]["total_count"] += 1
            self._save("transfer", transfer)
            self._move_balance(transfer["currency"], value)
            self._emit("transfer.reversed", transfer, request=request, previous=previous)
            if self.adverse:
                # Stripe also sends transfer.updated for the same change; handlers must not count it twice.
                self._emit("transfer.updated", transfer, request=request, previous=previous)
            return reversal

        path = f"/v1/transfers/{transfer_id}/reversals"
        call = {
            "transfer_id": transfer_id,
            "amount": amount,
            "metadata": params["metadata"],
            "idempotency_key": idempotency_key,
        }
        reversal = self._idempotent("reverse_transfer", "POST", path, params, idempotency_key, perform, call)
        return reversal_from_json(reversal)

    def list_transfers(
        self, *, created_from=None, created_to=None, transfer_group=None
    ) -> Iterator[Transfer]:
        self._maybe_fail("list_transfers")
        start = created_from.timestamp() if created_from is not None else float("-inf")
        end = created_to.timestamp() if created_to is not None else float("inf")
        rows = SimulatedStripeObject.objects.filter(platform=self.platform, kind="transfer")
        transfers = [
            row.data
            for row in rows
            if start <= row.data["created"] < end
            and (not transfer_group or row.data.get("transfer_group") == transfer_group)
        ]
        transfers.sort(key=lambda transfer: transfer["created"], reverse=True)
        return iter([transfer_from_json(transfer) for transfer in transfers])

    def update_transfer(self, transfer_id: str, *, description: str | None = None, metadata=None) -> dict:
        """Someone edits the transfer in Stripe's dashboard; emits ``transfer.updated``."""
        self._maybe_fail("update_transfer")
        with self._operation():
            transfer = self._get("transfer", transfer_id, for_update=True)
            previous = {}
            if description is not None:
                previous["description"] = transfer["description"]
                transfer["description"] = description
            if metadata is not None:
                previous["metadata"] = transfer["metadata"]
                transfer["metadata"] = {**transfer["metadata"], **_metadata(metadata)}
            self._save("transfer", transfer)
            self._emit("transfer.updated", _public(transfer), previous=previous)
        return transfer
