"""Ids as the database holds them."""

# The largest id a BigAutoField holds: a larger one cannot exist (and SQLite cannot even compare it), so
# input beyond it is answered as "not found" or a field error, never sent to the database.
MAX_ID = 2**63 - 1
