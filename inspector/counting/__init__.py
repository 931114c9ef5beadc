"""Exact per-source counts from the API's free POST /v1/messages/count_tokens.

plan.py decides which counts measure which part of a request, client.py asks the API
(paced, with the request's own credentials in memory only), cache.py reuses counts by
content hash, measure.py runs a plan within a budget, apply.py puts the counts into an
attribution tree, worker.py does it beside the recorder for `--exact`, and audit.py sets
Claude Code's own `/context` counts beside the measured ones.
"""
