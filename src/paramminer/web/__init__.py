"""`paramminer serve`: the review queue and the analysts' report as a local web app."""
