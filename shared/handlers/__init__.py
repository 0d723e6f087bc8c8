"""What each Cloud Function does with an event, behind its thin entry point in ``functions/``:
decode it, act through the engine, report the outcome (an event on ``platform-events`` and one
structured log line) and tell Pub/Sub whether to deliver it again (:class:`.outcomes.Redeliver`).
"""
