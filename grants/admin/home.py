"""The Wagtail admin home: what waits for each person, one panel per kind of work they do.

The queues themselves (which rows, for whom) are ``grants.services.work_queues``; this module
only places them on the dashboard through Wagtail's ``construct_homepage_panels`` hook.
"""

from wagtail.admin.ui.components import Component

from grants.services import work_queues


class WorkQueuePanel(Component):
    """One role's panel: its queues, each with its first items, total and a link to the rest."""

    template_name = "grants/admin/home/work_queue_panel.html"

    def __init__(self, key: str, heading: str, queues: list, order: int):
        self.name = f"work-queue-{key}"
        self.key = key
        self.heading = heading
        self.queues = queues
        self.order = order

    def get_context_data(self, parent_context=None):
        return {
            "panel_id": self.name,
            "heading": self.heading,
            "queues": self.queues,
            "nothing_waits": not any(queue.total for queue in self.queues),
        }


def work_queue_panels(user) -> list[WorkQueuePanel]:
    """The person's panels, before Wagtail's own (drafts in moderation, recent edits)."""
    return [
        WorkQueuePanel(key, heading, queues, order=10 + position)
        for position, (key, heading, queues) in enumerate(work_queues.panels_for(user))
    ]


def add_work_queues(request, panels: list) -> None:
    """``construct_homepage_panels`` hook."""
    panels[:0] = work_queue_panels(request.user)
