from newsroom.errors import ApplicationError


class AppealError(ApplicationError):
    """Staff asked for something the appeal or an experiment cannot do as asked."""
