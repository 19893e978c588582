"""``python -m riskengine.cli``: the ``riskengine`` command."""

from .app import main

main()
