"""Real concurrency on PostgreSQL: run callables at the same instant, each on its own connection."""

import threading

from django.db import connections


def race(*calls) -> list:
    """Run each callable in its own thread (own database connection), all released at once.

    Returns what each call returned, or the exception it raised, in the order they finished.
    """
    barrier = threading.Barrier(len(calls))
    outcomes = []

    def run(call):
        try:
            barrier.wait()
            outcomes.append(call())
        except Exception as error:
            outcomes.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def errors(outcomes: list) -> list:
    return [outcome for outcome in outcomes if isinstance(outcome, Exception)]


def successes(outcomes: list) -> list:
    return [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
