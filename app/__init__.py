"""The HTTP API: pixel, click redirect, postback, KPIs, health and metrics."""
