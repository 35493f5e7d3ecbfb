"""Built-in scimgate plugins, one module per identity provider.

Shipped as the package ``scimgate_plugins`` (see setup.cfg ``package_dir``) rather than a
top-level ``plugins`` package, which could collide with other distributions in site-packages.
"""
