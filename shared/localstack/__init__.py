"""The local stack: pinned tools, a real Kubernetes control plane, the Pub/Sub emulator and
chart repositories, all on 127.0.0.1, for laptops and for the test suite.

Tools are provisioned into a cache outside the repository (see :mod:`.paths`), pinned by version
and verified by checksum (see :mod:`.pins`), so a warm machine starts the stack in seconds.
"""
