"""solocrm's own date and number formats, per language (settings.FORMAT_MODULE_PATH).

Django looks here first and falls back to its own locale formats for any name not set here.
docs/languages.md explains the choices: one long and one short date format per language."""
