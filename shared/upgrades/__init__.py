"""Scheduled upgrade checks: for every platform of every registered cluster, what each component
could be upgraded to, by which safe path, with which notes, and, where a spec allows it, an
automatic patch or minor upgrade proposed through the normal reconcile path."""
