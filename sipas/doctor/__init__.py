"""``sipas doctor``: check a deployment and say, in Vietnamese, what is wrong and how to fix it.

Each check is a function of a :class:`Deployment` returning a :class:`Finding` (ok, what was found,
how to fix it). The checks live in small modules by subject; :data:`CHECKS` lists them in the order
an operator would fix things (database first: most other checks read it).
"""

from sipas.doctor.base import Deployment, Finding, Outcome, run_checks
from sipas.doctor.checks import CHECKS

__all__ = ["CHECKS", "Deployment", "Finding", "Outcome", "run_checks"]
