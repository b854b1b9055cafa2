"""Start gunicorn for the `web` role: `python -m config.serve [gunicorn options]`.

gunicorn reads WEB_CONCURRENCY itself, with int(), as soon as it is imported: WEB_CONCURRENCY=two would stop it
with a traceback that never names the variable. This checks that and every Django setting first.
"""

import sys
from pathlib import Path

from config.env import env_int
from config.startup import exit_on_bad_configuration, load_settings

CONFIG = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def main(args):
    with exit_on_bad_configuration():
        env_int("WEB_CONCURRENCY", 1, minimum=1)
    load_settings()
    from gunicorn.app.wsgiapp import run  # only once WEB_CONCURRENCY is known to be a number

    sys.argv = ["gunicorn", "--config", str(CONFIG), *args, "config.asgi:application"]
    run()


if __name__ == "__main__":
    main(sys.argv[1:])
