"""`paramminer serve`: the review queue and the report as a local web app."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

import click

from paramminer.cli.common import handle_errors, open_warehouse, settings_from, warehouse_option
from paramminer.errors import ConfigError


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@click.command("serve")
@warehouse_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback needs a token.")
@click.option("--port", type=click.IntRange(0, 65535), default=0,
              help="Port [default: a free one].")
@click.option("--token", envvar="PARAMMINER_SERVE_TOKEN", default=None,
              help="Access token every request must carry [env PARAMMINER_SERVE_TOKEN; "
                   "generated when --host is not loopback].")
@click.option("--by", default=None,
              help="Reviewer name for decisions [env PARAMMINER_REVIEWER; default: login name]; "
                   "each browser can set its own.")
@click.option("--resamples", type=click.IntRange(min=10), default=1000, show_default=True,
              help="Bootstrap resamples of the report page.")
@click.pass_context
@handle_errors
def serve_command(ctx: click.Context, warehouse: Path | None, host: str, port: int,
                  token: str | None, by: str | None, resamples: int) -> None:
    """Serve the review queue and the report to a browser; prints the URL, opens nothing.

    Listens on 127.0.0.1 only unless --host says otherwise; then every request must carry a
    token (the printed URL holds it). Stop with Ctrl-C.

    Example: paramminer serve --port 8000 --by alice
    """
    from paramminer.review import default_reviewer
    from paramminer.web.app import ServeOptions, make_server
    from paramminer.web.security import is_loopback, new_token

    settings = settings_from(ctx, warehouse=warehouse)
    path = settings.warehouse_path
    if not path.exists():
        raise ConfigError(f"no warehouse at {path} (run `paramminer demo` or "
                          "`paramminer ingest` first, or give --warehouse)")
    with open_warehouse(settings):
        pass  # migrate once, so the per-request read-only opens find every table and view
    if not is_loopback(host) and not token:
        token = new_token()
    roots = tuple(dict.fromkeys((Path.cwd(), path.parent.resolve(), path.parent.resolve().parent)))
    options = ServeOptions(path, settings.pdf_store_dir, default_reviewer(by), host, port,
                           token, roots, resamples)
    try:
        server, url = make_server(options)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    click.echo(f"paramminer serve: {url}  (review queue and report of {path}; Ctrl-C stops)")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("paramminer serve: stopped")
    finally:
        server.server_close()
        server.app.close()


COMMANDS = [serve_command]
