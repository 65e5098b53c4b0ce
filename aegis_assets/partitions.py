"""One dynamic partition per paid job; the Stripe sensor adds the keys."""

import dagster as dg

job_partitions = dg.DynamicPartitionsDefinition(name="jobs")
