"""Property-based tests (hypothesis): generated hostile input, a fixed example budget.

Every test here runs a fixed number of examples with a derandomised seed, so the
suite's cost is fixed (well under 60 s) and a failure reproduces on every run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

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
# shrinking a 60 kB line can take minutes: off by default (the failing example is printed
# and reproduces, the seed being fixed); HYPOTHESIS_PROFILE=shrink to minimise one.
settings.register_profile(
    "default-budget",
    parent=settings.get_profile("collabiq"),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
settings.register_profile("shrink", parent=settings.get_profile("collabiq"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default-budget"))
