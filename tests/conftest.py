"""Pytest wiring: the fixture modules under tests/fixtures, and the order of the files when
`make test` runs them in parallel workers (pytest-xdist)."""

pytest_plugins = [
    "tests.fixtures.dovecot",
    "tests.fixtures.smtp",
    "tests.fixtures.database",
    "tests.fixtures.pipeline",
    "tests.fixtures.oauth",
    "tests.fixtures.oidc",
]


import os  # noqa: E402
import signal  # noqa: E402

import pytest  # noqa: E402

# The files that take longest, slowest first (as measured with `make test`). With
# `--dist loadfile --no-loadscope-reorder` a worker takes the next whole file in this order
# when it is done with one: the long files start first, so that none is left for the end
# while the other workers have nothing to do. A file not listed only starts later; the order of
# the tests inside a file and of the unlisted files is unchanged.
SLOWEST_FILES = (
    "test_classify_vocabulary.py",
    "test_crash_proof.py",
    "test_hostile.py",
    "test_rules_tools.py",
    "test_standby.py",
    "test_cli_inspect.py",
    "test_cli_run.py",
    "test_column_queries.py",
    "test_rules_reload.py",
    "test_exactly_once.py",
    "test_identity_documents.py",
    "test_classify_sieve.py",
    "test_outbox.py",
    "test_sandbox.py",
    "test_rfc6532.py",
    "test_classify_everyday.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """In a pytest-xdist worker: the slowest files first (every worker sorts alike)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return  # one process: the usual order
    rank = {name: n for n, name in enumerate(SLOWEST_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable


@pytest.fixture(autouse=True)
def _sigpipe_ignored():
    """`intake.cli.main` sets SIGPIPE to default (for `intake … | head`); in this test process
    that would make a later test die silently when a server it talks to goes away."""
    yield
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)


@pytest.fixture(scope="module")
def trained_pipeline():
    """The triage as the daemon builds it from default settings: rules plus the trained model,
    loaded once per test module. Without a model: a failure under CI (make test builds it),
    else a skip."""
    from intake.config import default_settings
    from intake.triage import TriagePipeline

    pipeline = TriagePipeline.from_settings(default_settings())
    if pipeline.classifier.model is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no trained model in models/build: `make test` builds it first")
        pytest.skip("no trained model in models/build: run `make model` (make test does)")
    return pipeline
