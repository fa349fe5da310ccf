# The simulated Stripe's models moved to their own app (stripe_sim, grants/payments/simulator):
# removed from this app's state only; the tables stay, now owned by stripe_sim's 0001_initial.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0019_foundation_access_log_retention"),
        ("stripe_sim", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="SimulatedIdempotencyKey"),
                migrations.DeleteModel(name="SimulatedStripeObject"),
            ],
            database_operations=[],
        ),
    ]
