"""A rehearsal (演练) of a whole call, driven over the platform's HTTP API through one base URL.

`gongyi demo` runs it against a running platform so a newcomer sees every page and export within
minutes; the end-to-end tests run the same scenario on `gongyi run` and on RabbitMQ + PostgreSQL.
"""
