"""`deepedge bench`: latency of an exported model, as JSON."""

import json

from helpers import run_cli


def test_bench_reports_latency_as_json(exported_int8):
    result = run_cli("bench", exported_int8, "--runs", "200", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["latency_us"]["median"] > 0 and report["threads"] == 1 and report["quantization"] == "int8"


def test_bench_times_the_decoder_step_of_an_encoder_decoder():
    result = run_cli("bench", "scenes_show_and_tell", "--runs", "10", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["latency_us"]["median"] > 0
