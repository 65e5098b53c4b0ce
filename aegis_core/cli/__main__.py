import sys

from aegis_core.cli import main

sys.exit(main())
