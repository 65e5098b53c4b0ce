import sys

from aegis_cli import main

sys.exit(main())
