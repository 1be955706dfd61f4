"""The secret key: the configured one, or one generated on first start and kept in the data dir."""

import stat

from postmetric.config import Settings


def test_a_configured_secret_key_is_used_as_is(tmp_path):
    assert Settings(data_dir=tmp_path, secret_key="s3cret").resolved_secret_key() == "s3cret"
    assert not (tmp_path / "secret_key").exists()


def test_without_one_a_key_is_generated_once_and_kept_private(tmp_path):
    data_dir = tmp_path / "data"
    first = Settings(data_dir=data_dir).resolved_secret_key()
    assert len(first) >= 64 and Settings(data_dir=data_dir).resolved_secret_key() == first
    assert stat.S_IMODE((data_dir / "secret_key").stat().st_mode) == 0o600
    assert Settings(data_dir=tmp_path / "other").resolved_secret_key() != first
