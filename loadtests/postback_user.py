"""locust user for the postback latency phase of ``make bench``: every request a distinct conversion
(so none is answered from the duplicate memory), each user paced to ADPULSE_LOCUST_RPS_PER_USER/s."""

from __future__ import annotations

import os
import uuid

from locust import FastHttpUser, constant_throughput, task


class Network(FastHttpUser):
    wait_time = constant_throughput(float(os.environ.get("ADPULSE_LOCUST_RPS_PER_USER", "10")))

    @task
    def postback(self) -> None:
        tx = uuid.uuid4().hex
        self.client.get(f"/postback?click_id=b{tx[:12]}&payout=2.50&currency=USD&txid={tx}", name="/postback")
