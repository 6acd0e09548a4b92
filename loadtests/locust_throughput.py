"""Locust users that only measure the client's ceiling: GET /health without think time
(loadtests/locust_rate.py). Not the fault harness' traffic model (loadtests/locustfile.py)."""

from locust import FastHttpUser, constant, task


class HealthHammer(FastHttpUser):
    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get("/health", name="/health")
