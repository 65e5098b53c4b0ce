"""The sensors of the code location."""

from aegis_sensors.operator import operator_requests_sensor
from aegis_sensors.run_status import refinery_run_canceled_sensor, refinery_run_failed_sensor
from aegis_sensors.stripe import stripe_payments_sensor

SENSORS = [
    stripe_payments_sensor,
    operator_requests_sensor,
    refinery_run_failed_sensor,
    refinery_run_canceled_sensor,
]
