"""Teaching material built on the harness: the lessons' numbers against torch
(:mod:`comparisons.teaching.lessons`) and the gallery of wrong derivations, each caught
(:mod:`comparisons.teaching.gallery`).

    python -m comparisons.gallery     # (or comparisons.teaching.gallery)
    python -m comparisons.lessons     # (or comparisons.teaching.lessons)
"""
