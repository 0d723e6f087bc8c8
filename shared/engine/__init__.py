"""The reconcile engine: make a cluster match a platform spec, one safe step at a time.

Per component the engine observes the release (:mod:`.observe`), classifies what it sees
against what the spec asks for (:mod:`.state`), decides one action (:mod:`.decide`), runs it
(:mod:`.actions`) and observes again, until the component is in sync, stalled, or the step
budget or deadline is spent (:mod:`.loop`). :mod:`.platform` does that for every component of
a platform in order, under a Lease, and writes the custom resource's status.
"""
