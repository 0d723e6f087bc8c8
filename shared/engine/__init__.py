"""The reconcile engine: make a cluster match a platform spec, one safe step at a time.

Per component the engine observes the release (from Helm's storage, through
:class:`~shared.helm.releases.ReleaseStore`), classifies what it sees against what the spec asks
for (:mod:`.classify`), decides one action (:mod:`.decide`), runs it (:mod:`.actions`) and
observes again, until the component is in sync, stalled, or the step budget or deadline is
spent (:mod:`.loop`). :mod:`.passes` does that for every component of a platform in order, and
:mod:`.applying` under the platform's Lease, with the custom resource's status written as it
goes. :class:`~.reconciler.Reconciler` is the entry point; ``docs/engine.md`` maps the modules.
"""
