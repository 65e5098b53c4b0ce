"""`aegis demo`, the README's main job, end to end in a fresh working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_demo_refines_one_job_end_to_end(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEGIS_", "DAGSTER_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "aegis_cli", "demo"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "job status complete" in proc.stdout and "audit chain valid" in proc.stdout
    (dataset,) = (tmp_path / ".aegis" / "data" / "jobs").glob("*/dataset.jsonl")
    # The certificate's files are printed and `aegis verify` holds them to the dataset.
    (cert,) = dataset.parent.glob("certificates/cert_*.json")
    assert f"json       {cert}" in proc.stdout
    assert f"pdf        {cert.with_suffix('.pdf')}" in proc.stdout
    assert f"dataset {dataset.name} matches SHA-256" in proc.stdout
    rows = [json.loads(line) for line in dataset.read_text().splitlines()]
    assert len(rows) == 4
    text = json.dumps(rows)
    for secret in ("sk_live_51Example", "203.0.113.40", "415-555-0132", "ben.customer@example"):
        assert secret not in text
    assert "@Ben" not in text and "[SECRET]" in text
    verify = subprocess.run(
        [sys.executable, "-m", "aegis_cli", "audit", "verify"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verify.returncode == 0, verify.stdout
    dataset.write_bytes(dataset.read_bytes() + b"\n")  # the dataset no longer the certified one
    tampered = subprocess.run(
        [sys.executable, "-m", "aegis_cli", "verify", str(cert), "--dataset", str(dataset)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert tampered.returncode == 1 and "dataset hash mismatch" in tampered.stderr


def test_demo_with_an_empty_conversation_completes_with_the_rest(tmp_path: Path) -> None:
    """The source from issue 13: one empty conversation used to kill the whole job."""
    source = tmp_path / "x.json"
    question = "My NAS will not boot after the firmware update, what should I check first?"
    answer = "Check the boot order in the firmware settings and make sure the system disk is first."
    source.write_text(
        json.dumps(
            [
                {"messages": []},
                {
                    "messages": [
                        {"role": "user", "content": question},
                        {"role": "assistant", "content": answer},
                    ]
                },
            ]
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AEGIS_", "DAGSTER_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "aegis_cli", "demo", "--source", "x.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "job status complete" in proc.stdout and '"dropped": {"empty": 1}' in proc.stdout
    job_dir = next((tmp_path / ".aegis" / "data" / "jobs").iterdir())
    assert not list(job_dir.glob("*.partial"))
    (row,) = [json.loads(line) for line in (job_dir / "dataset.jsonl").read_text().splitlines()]
    assert [turn["value"] for turn in row["conversations"][1:]] == [question, answer]
    # The instance config the project ships, run monitoring on, is the demo's DAGSTER_HOME's.
    instance_config = (tmp_path / ".aegis" / "dagster" / "dagster.yaml").read_text()
    assert "run_monitoring:\n  enabled: true" in instance_config
