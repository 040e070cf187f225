"""Every `solocrm` command explains itself with --help (argparse needs plain strings, not lazy
translations, for a command's description)."""

import pytest
from django.core.management import get_commands, load_command_class

SOLOCRM_COMMANDS = sorted(name for name, app in get_commands().items() if app.startswith("solocrm"))


def test_solocrm_has_its_own_commands():
    assert {"analytics", "createuser", "demo", "export", "import", "serve", "token"} <= set(SOLOCRM_COMMANDS)


@pytest.mark.parametrize("name", SOLOCRM_COMMANDS)
def test_help_of_the_command_prints_its_description(name, capsys):
    command = load_command_class(get_commands()[name], name)
    with pytest.raises(SystemExit) as stop:
        command.run_from_argv(["solocrm", name, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert f"solocrm {name}" in out
    assert str(command.help).split()[0] in out
