"""Every failure of work on a platform becomes an outcome, transient or not, and scrubbed: the
functions publish it and the command line prints it, and neither ever sees an exception of the
engine's."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from ..clusters.errors import NamespaceNotAllowed
from ..errors import GunjError
from ..kube.errors import api_error
from .errors import Deferred, RefusedSpec
from .outcome import Outcome
from .parts import EngineParts


def guarded(
    parts: EngineParts,
    platform: str,
    generation: int | None,
    started: float,
    work: Callable[[], Outcome],
) -> Outcome:
    """Run ``work``; every failure becomes an outcome (transient or not), scrubbed, naming the
    platform (``namespace/name``) and the cluster, with the time taken since ``started``."""
    try:
        outcome = work()
    except Deferred as error:
        outcome = Outcome("deferred", parts.redactor(str(error)))
    except (RefusedSpec, NamespaceNotAllowed) as error:
        outcome = Outcome("refused", parts.redactor(str(error)))
    except GunjError as error:
        outcome = Outcome("error", parts.redactor(str(error)), transient_error=error.transient)
    except OSError as error:  # a connection of a library's own (google-auth's, say)
        typed = api_error(error, "talking to the cluster")
        outcome = Outcome("error", parts.redactor(str(typed)), transient_error=typed.transient)
    return replace(
        outcome,
        platform=platform,
        cluster=parts.cluster,
        generation=generation if outcome.generation is None else outcome.generation,
        duration=time.monotonic() - started,
    )
