"""``python -m riskengine.cli``: the ``riskengine`` command."""

from .main import main

main()
