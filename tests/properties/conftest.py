"""Shared by the property tests: a repeatable hypothesis profile and the shipped models.

The profile `deepedge-properties` draws the same examples on every run (derandomized, no
example database), never times an example out, and does not fail a test for slow example
generation: loading a model or building a file makes some examples slow on a busy machine.
Each test applies it with `properties_settings(max_examples)` rather than loading it, so
other test folders keep hypothesis's defaults.
"""

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("deepedge-properties", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.large_base_example])


@pytest.fixture(scope="module")
def resources(tmp_path_factory):
    """`fuzz_core.Resources`: each shipped model loaded once per test module, a work folder."""
    from fuzz_core import Resources

    return Resources(tmp_path_factory.mktemp("properties"))


@pytest.fixture(scope="session")
def properties_settings():
    """`settings` for one property test: the profile with `max_examples` examples."""
    return lambda max_examples: settings(settings.get_profile("deepedge-properties"), max_examples=max_examples)
