"""Events in and out of the functions: Pub/Sub CloudEvents, and one structured log line each."""
