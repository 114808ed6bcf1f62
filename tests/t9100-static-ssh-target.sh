#!/bin/sh
# The ssh target with the static tools (make static): xt-submit of the
# static build stages itself, the static xt tools, on the two boxes of
# t8100, and the sweeps of t8100 (a folder store, Azurite) run there.
T8100_SWEEPS_ONLY=1 exec sh "$(dirname "$0")/t8100-ssh-target.sh"
