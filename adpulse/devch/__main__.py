import sys

from adpulse.devch.server import main

sys.exit(main())
