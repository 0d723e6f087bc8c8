"""The live check: do the objects a release's current revision holds exist in the cluster, as
it holds them, and are its workloads ready now? Helm's records prove what a release holds; only
the cluster says whether that is what runs.

- :mod:`.manifest`: the objects a revision holds, as it would apply them.
- :mod:`.paths`: where two versions of an object differ, as paths a person reads.
- :mod:`.owners`: which field managers own a field (``metadata.managedFields``).
- :mod:`.ignore`: the spec's ignore rules.
- :mod:`.check`: one look at a platform's releases: a list per kind, a server-side dry run only
  for objects that changed since they were last found as they should be, and the drift that
  counts (fields gunj's own manager, nobody, or a person's tool holds; never another
  controller's).
- :mod:`.correct`: the drifted objects applied again, as the release's own manager.
"""
