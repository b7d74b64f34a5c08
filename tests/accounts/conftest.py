import pytest


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Call something, then run the work it left for after commit (the outbox's e-mail), as a real commit would."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run
