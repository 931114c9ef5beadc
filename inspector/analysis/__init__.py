"""Analysis over stored captures: usage and cost stats, turn-to-turn diffs, ratings.

Pure logic (diffs of attribution trees, shaping of figures) lives beside the SQL that
feeds it, in separate modules, so the app can reuse the same functions as the CLI.
"""
