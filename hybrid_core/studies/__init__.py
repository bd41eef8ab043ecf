"""Studies: a grid of training arms x seeds x evaluation sets, from one TOML file to tables with statistics.

``spec`` parses and validates a study file, ``plan`` turns it into runs and evaluations (what is on
disk, what remains, how long it should take), ``runner`` trains / merges / evaluates every cell and is
safe to interrupt, ``slices`` defines the language groups (seen, unseen, low-resource, per language),
``tables`` computes the statistics and writes CSV / Markdown / LaTeX, ``figures`` builds the plots and
``catalog`` lists studies on disk for the dashboard.
"""
