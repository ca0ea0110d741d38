"""`invoke_cli_runner` as MLflow's tests use it: run a click command, fail on a non-zero exit."""
from click.testing import CliRunner


def invoke_cli_runner(*args, **kwargs):
    result = CliRunner().invoke(*args, catch_exceptions=False, **kwargs)
    assert result.exit_code == 0, f"Got non-zero exit code {result.exit_code}. Output:\n{result.output}"
    return result
