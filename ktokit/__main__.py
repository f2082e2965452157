import sys

from ktokit.cli import main

sys.exit(main())
