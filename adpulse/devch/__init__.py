"""DEVELOPMENT/TEST ONLY: ClickHouse's HTTP interface served over the embedded engine (chdb).

The embedded engine locks its data directory to one process; this lets the API, the aggregators,
the tests and BI tools share one database from several processes, on 127.0.0.1, through the same
client code that talks to a ClickHouse server in production. No authentication, no TLS: never expose it.
"""
