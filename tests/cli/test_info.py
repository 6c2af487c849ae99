"""`deepedge info`: what an exported model holds."""

from helpers import assert_quiet, run_cli


def test_info_lists_the_ops_quietly(exported_int8):
    info = run_cli("info", exported_int8)
    assert info.returncode == 0 and "DEPTHWISE_CONV_2D" in info.stdout
    assert_quiet(info)
