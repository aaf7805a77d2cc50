"""Which map can I trust on this model? Every explanation method scored on a model's own
images by the metrics of the evaluation literature (deletion and insertion, faithfulness
correlation, max-sensitivity, the randomisation test, ROAD), beside random and centred
baseline maps; as a job (POST /models/{name}/evaluate) and on the command line
(python -m app.evaluate). See docs/evaluation.md."""
