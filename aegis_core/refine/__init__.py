"""The refinery: fetch a source, parse it into samples, clean, mask PII, dedup, score,
and write ShareGPT or ChatML JSONL. Pure Python; the Dagster assets wrap these steps."""
