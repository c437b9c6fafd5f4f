"""Property-based tests (hypothesis): generated hostile input, a fixed example budget.

Every test here runs a fixed number of examples with a derandomised seed, so the
suite's cost is fixed (well under 60 s) and a failure reproduces on every run.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "collabiq",
    deadline=None,  # no wall-clock limits: the machine is shared and busy
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the temp COLLABIQ_HOME is shared by examples
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
settings.load_profile("collabiq")
