"""What the workbench does, one function per action, called by a page and by its JSON twin
alike: the routers only read the request, call one of these and format the answer. Every
function takes the :class:`~rainforest.web.context.Workbench` and the caller; none knows
about HTTP beyond raising ``HTTPException`` for what the caller may not do or see."""
