"""Hypothesis profiles for the whole suite.

"chainrule" (the default): 20 small examples per property, no deadline, and derandomized, so
CI runs the same examples every time and a failure is reproducible, never flaky. Set
HYPOTHESIS_PROFILE=explore to search 300 fresh random examples per property instead.
"""

import os

from hypothesis import settings

settings.register_profile("chainrule", max_examples=20, deadline=None, derandomize=True)
settings.register_profile("explore", max_examples=300, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chainrule"))
