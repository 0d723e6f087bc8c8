"""The fleet: what holds across every registered cluster, kept in Firestore.

Each cluster stays the truth for its own platforms (their specs, status and Helm releases live
in it). Firestore holds only what is fleet-wide: quarantines that hold on every cluster, rollouts
and their waves, and a per-platform summary for the fleet view. Losing the store loses no
cluster's state: the summaries are written again by the next resync of every platform, and
quarantines again by the records each platform's status keeps.

Fleet features are on when a store is configured (:mod:`.settings`); without one every cluster
works alone, as it always could.
"""
