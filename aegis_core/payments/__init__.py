"""Payments: the $20 Checkout Session, verified Stripe webhooks, and fulfilment."""

FLAT_FEE_CENTS = 2000
CURRENCY = "usd"
