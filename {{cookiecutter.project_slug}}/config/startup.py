"""Start-up checks shared by manage.py and gunicorn: a bad setting ends the process with one line, no traceback.

The line names the variable and the fix (config/env.py and config/settings.py write it); the exit status is 2.
"""

import contextlib
import os
import sys

from django.core.exceptions import ImproperlyConfigured

BAD_CONFIGURATION = 2


@contextlib.contextmanager
def exit_on_bad_configuration():
    try:
        yield
    except ImproperlyConfigured as error:
        print(f"configuration error: {error}", file=sys.stderr)
        sys.exit(BAD_CONFIGURATION)


def load_settings():
    """Read every setting now, in the process that starts, rather than in a worker or a command halfway through."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    with exit_on_bad_configuration():
        from django.conf import settings

        settings._setup()  # loads the settings module even where nothing has read a setting yet
