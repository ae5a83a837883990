"""Progress bars that reach the build log.

Inside a notebook kernel ``sys.stderr`` is captured into the page; ``sys.__stderr__`` is the kernel
process's own stderr, which Jupyter Book's build log shows.
"""
from __future__ import annotations

import sys

from tqdm.std import tqdm as _tqdm


def bar(iterable=None, *, total=None, desc=""):
    stream = sys.__stderr__ or sys.stderr
    return _tqdm(iterable, total=total, desc=desc, file=stream, mininterval=1.0, leave=True,
                 dynamic_ncols=False, ncols=88)
