"""Settings of a simulator instance."""

from dataclasses import dataclass, field

#: The API version the pinned SDK sends; objects and events are rendered in it.
API_VERSION = "2026-10-28.endive"


@dataclass
class SimConfig:
    """How a :class:`~payments.simulator.Simulator` behaves.

    ``webhook_url`` may also be a callable ``(body: bytes, headers: dict) -> int`` that
    receives each signed delivery in-process and returns the HTTP status it stands for.
    """

    api_key_prefix: str = "sk_test_"
    public_url: str = "http://127.0.0.1:12111"
    webhook_url: object = None
    webhook_secrets: list = field(default_factory=lambda: ["whsec_sim_secret"])
    fee_percent: str = "2.9"
    fee_fixed: int = 30
    dispute_fee: int = 1500
    available_delay_days: int = 2
    on_clock_change: object = None
    webhook_timeout: float = 10.0
    account_name: str = "Simulated NGO"
    currency: str = "cad"
