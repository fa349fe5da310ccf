"""Domain errors. Views show ``message`` (translated) to the person who tried."""


class DomainError(Exception):
    """A rule of the portal refused an action; ``message`` says why, in the user's language."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class IllegalTransition(DomainError):
    """The object is not in a state from which this change is allowed, or the actor may not make it."""


class ApplicationError(DomainError):
    """An application action was refused (call closed, not eligible, invalid answers...)."""


class UploadRejected(ApplicationError):
    """An uploaded file is too big or of a type the question does not accept."""
