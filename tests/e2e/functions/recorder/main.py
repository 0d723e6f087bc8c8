"""A function that appends every CloudEvent it receives to the file named by RECORD_TO."""

import json
import os
from pathlib import Path

import functions_framework


@functions_framework.cloud_event
def record(event) -> None:  # type: ignore[no-untyped-def]
    with Path(os.environ["RECORD_TO"]).open("a") as out:
        out.write(
            json.dumps({"attributes": dict(event.get_attributes()), "data": event.data}) + "\n"
        )
