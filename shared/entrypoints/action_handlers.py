"""Every action the ``actions`` function knows, registered in one place.

Add one line per feature (``from shared.usecases import X; X.register_actions(bootstrap.X_deps)``).
"""

from __future__ import annotations

from functools import cache


@cache
def load() -> None:
    from shared import bootstrap
    from shared.usecases import applications

    applications.register_actions(bootstrap.application_deps)
    from shared.usecases import assign

    assign.register_actions(bootstrap.assign_deps)
    from shared.entrypoints import jobs_rhythm

    jobs_rhythm.register_actions()  # confirm_proposal (member events) and directory_opt_out
    from shared.entrypoints import jobs_newsletter

    jobs_newsletter.register_actions()  # approve_newsletter (the preview mail)
