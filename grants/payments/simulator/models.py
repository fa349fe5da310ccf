"""State kept by the simulated Stripe (demo and tests only).

The simulated gateway behaves like Stripe for the portal's flows; its objects live in the
database so that every process (web, worker, test client) sees the same state.
"""

from django.db import models


class SimulatedStripeObject(models.Model):
    """One object of the simulated Stripe (account, transfer, checkout session, event, ...)."""

    id = models.CharField(primary_key=True, max_length=64)
    # Which Stripe account the object lives in: the foundation's platform account key.
    platform = models.CharField(max_length=80, db_index=True)
    kind = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # The table keeps the name it had when the model lived in the grants app: no data moved.
        db_table = "grants_simulatedstripeobject"
        indexes = [models.Index(fields=["platform", "kind", "created_at"], name="simstripe_kind_idx")]

    def __str__(self):
        return self.id


class SimulatedIdempotencyKey(models.Model):
    """A request the simulated Stripe has answered, by idempotency key (as Stripe keeps them)."""

    platform = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "grants_simulatedidempotencykey"
        constraints = [
            models.UniqueConstraint(fields=["platform", "key"], name="simstripe_unique_idempotency_key")
        ]
