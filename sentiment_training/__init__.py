"""Reproducible build of the shipped sentiment/emotion model (``make sentiment-model``).

Not imported at run time: the assistant only loads the finished model directory through
``transformers``. See ``README.md`` in this folder for the data, the steps and the numbers.
"""
