"""Running the course for a class on JupyterHub, with nbgrader's exchange.

- :mod:`hub.settings`: one description of a class's hub (roster, exchange, course folder, ports)
  that ``jupyterhub_config.py``, the set-up and the tests all read, and the environment every
  user's JupyterLab gets;
- :mod:`hub.provision`: the root-only set-up (Unix users and the instructors' group, the exchange,
  the course folder, hiding instructor files in the checkout, the proxy from npm);
- ``python -m hub setup | start`` (:mod:`hub.__main__`): what ``make hub`` runs;
- ``hub/jupyterhub_config.py`` and ``hub/jupyter/nbgrader_config.py``: the hub's and nbgrader's
  configuration.
"""
