"""Teaching material built on the harness: the lessons' numbers against torch
(:mod:`comparisons.teaching.lessons`, with :mod:`~comparisons.teaching.layer_lessons` and
:mod:`~comparisons.teaching.gradients_through_time`), the gallery of wrong derivations, each
caught (:mod:`comparisons.teaching.gallery`), and the notebooks
(:mod:`comparisons.teaching.notebooks`).

    python -m comparisons.teaching.gallery
    python -m comparisons.teaching.lessons
"""
