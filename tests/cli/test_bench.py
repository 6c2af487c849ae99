"""`deepedge bench`: latency of an exported model, as JSON."""

import json

from helpers import run_cli


def test_bench_reports_latency_as_json(exported_int8):
    result = run_cli("bench", exported_int8, "--runs", "200", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["latency_us"]["median"] > 0 and report["threads"] == 1 and report["quantization"] == "int8"
