"""`deepedge serve`: the browser demo, the shipped models running in the visitor's browser."""

import signal

import click

from deepedge.cli.common import console
from deepedge.errors import InvalidInputError


@click.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="TCP port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; a non-loopback one needs --public.")
@click.option("--public", is_flag=True, help="Allow binding an address other machines can reach.")
@click.option("--models", type=click.Path(file_okay=False, exists=True),
              help="Folder of exported models to offer (default: the shipped saved_models/).")
@click.option("--install", is_flag=True, help="Fetch LiteRT.js from the npm registry with npm first, if missing.")
@click.option("--verbose", is_flag=True, help="Log every request.")
def command(port, host, public, models, install, verbose):
    """Serve the browser demo: a page whose panels run the shipped int8 models in the browser.

    The server only hands out files (the page, LiteRT.js and the models); inference, uploads
    and recordings stay in the browser. It binds 127.0.0.1 unless --host and --public say so.
    """
    from deepedge.web.server import check_host, make_server

    check_host(host, public)
    if install:
        from deepedge.web.assets import install_litert_js

        install_litert_js()
    try:
        server = make_server(host, port, models, public, verbose)
    except OSError as e:  # the port is taken, or the address is not this machine's
        raise InvalidInputError(f"Cannot serve on {host}:{port}: {e.strerror or e}. Received: --host {host} --port "
                                f"{port}. Pass another --port (0 picks a free one).") from e
    bound_host, bound_port = server.server_address[:2]
    unavailable = [m for m in server.site.catalog if "unavailable" in m]
    console.print(f"Serving {len(server.site.catalog) - len(unavailable)} models at "
                  f"http://{bound_host}:{bound_port}/ (Ctrl-C stops)")
    for model in unavailable:
        console.print(f"  {model['name']}: {model['unavailable']}")
    # Ctrl-C and a plain `kill` stop it cleanly, even when a shell started it in the background
    # (which leaves SIGINT ignored in the child)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("Stopped.")
    finally:
        server.server_close()
