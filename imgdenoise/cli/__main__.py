import sys

from imgdenoise.cli import main

sys.exit(main())
