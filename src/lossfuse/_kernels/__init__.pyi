# Stub for the run-time choice of the kernel module (__init__.py): every build has the API of
# _baseline, so `kernels` is typed as that module.
from types import ModuleType
from typing import Dict

from . import _baseline as kernels

available: Dict[str, ModuleType]           # kernel modules this CPU runs, narrowest first
