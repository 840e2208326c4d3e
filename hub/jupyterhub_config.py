"""JupyterHub for a class of the Keras course (``make hub``; ``python -m hub start``).

The settings come from ``KERAS_HUB_*`` environment variables (``hub/settings.py``), which the
launcher sets from its command line. Three parts, the first two specific to a machine:

1. the hub and its proxy: configurable-http-proxy from ``hub/node_modules``, loopback ports, the
   database and cookie secret in the (root-only) state folder;
2. the log-in: PAM, i.e. the users' Unix passwords, for the roster only. It stands in for the
   course's real authenticator (LTI from the LMS, or OAuth: swap ``authenticator_class``, keep
   ``allowed_users`` or let the LMS decide); nbgrader only needs each user to be a Unix account;
3. the users' servers (what to copy into another hub's configuration): each user's own
   JupyterLab, started as that Unix user (LocalProcessSpawner) from the course environment, with
   the course's student or instructor view and the exchange (``hub.settings.singleuser_environment``).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout: the `hub` package

from hub.settings import PROXY_COMMAND, HubSettings, configure_user_servers  # noqa: E402

c = get_config()  # noqa: F821 (provided by traitlets when JupyterHub loads this file)
settings = HubSettings.from_env()
state = Path(settings.state_dir)

# 1. the hub and its proxy ----------------------------------------------------------------------
c.JupyterHub.bind_url = settings.bind_url
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{settings.hub_port}"
c.ConfigurableHTTPProxy.command = [str(PROXY_COMMAND)]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{settings.proxy_api_port}"
c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server
c.JupyterHub.cleanup_proxy = True

# 2. the log-in (a stand-in for LTI/OAuth) ------------------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(settings.users)

# 3. the users' servers (on another hub, e.g. The Littlest JupyterHub, this call is what to copy)
configure_user_servers(c, settings)
