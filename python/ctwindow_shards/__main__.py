"""python -m ctwindow_shards dump|order|bench|verify OUTDIR …"""
import sys

from ._core import main

sys.exit(main(sys.argv[1:]))
