"""The last asset of a job's lineage: its signed audit certificate.

`audit_certificate` issues the certificate from the asset-check results that `refine`
recorded for the dataset in the audit log, and only then completes the job
(`service.certify`). The checks are read from the audit log rather than from Dagster's
event log: the record is keyed by the job and bound to the dataset's SHA-256, it is part of
the tamper-evident chain the certificate covers, and it is there for an operator's re-issue
(a run of this asset alone, where no check runs) whatever the Dagster instance keeps. A
failed blocking check halts the job when it is recorded; Dagster then skips this asset.
"""

import json
from pathlib import Path

import dagster as dg

from aegis_assets.steps import COMMON, step, trigger
from aegis_core.certificates import Issuer
from aegis_core.refine import service
from aegis_core.settings import get_settings
from resources.database import DatabaseResource
from resources.refinery import RefineryResource


@dg.asset(
    **COMMON,
    deps=["refined_jsonl"],
    description=(
        "The signed audit certificate (W3C VC, eddsa-jcs-2022) as JSON and PDF; issuing it "
        "completes the job."
    ),
)
def audit_certificate(
    context: dg.AssetExecutionContext, database: DatabaseResource, refinery: RefineryResource
) -> dg.MaterializeResult:
    """Issue the job's certificate with the key the API's DID document publishes."""
    with step(context, "certificate", database, refinery) as (db, files):
        issuer = Issuer.from_settings(get_settings())  # the settings the API serves from
        row = service.certify(
            db, context.partition_key, files, issuer, actor=trigger(context.run).kind
        )
        subject = json.loads(Path(row.json_path).read_bytes())["credentialSubject"]
    return dg.MaterializeResult(
        metadata={
            "cert_id": row.id,
            "signature": row.signature,
            "verification_method": issuer.verification_method,
            "verdict": subject["aar"]["verdict"],
            "dataset_sha256": subject["dataset"]["sha256"],
            "json_path": dg.MetadataValue.path(row.json_path),
            "pdf_path": dg.MetadataValue.path(row.pdf_path),
        }
    )
