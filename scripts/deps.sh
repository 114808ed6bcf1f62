#!/bin/sh
# Install the Debian packages that the build, the tests, the demo and the
# benchmarks need, when they are missing. Quiet and quick when all is there.
#   scripts/deps.sh [build|check|demo|bench|fuzz|static]...   (default: build)
set -eu

build="gcc make pkg-config libbearssl-dev libcurl4-openssl-dev libyaml-dev
libcjson-dev libmongoc-dev libbson-dev libssh2-1-dev"
# (strace: t6060 counts a report's reads of the index)
check="$build mandoc python3 jq libxml2-utils librsvg2-bin strace"
# the Slurm target's tests: a private single-node cluster (scripts/slurm-up.sh)
slurm="slurmctld slurmd slurm-client munge"
# t8230: Slurm accounting (sacct) through slurmdbd and a private MariaDB
slurm="$slurm slurmdbd mariadb-server mariadb-client"
check="$check $slurm"
# t4240: a real torch.distributed job (gloo) across the ranks of one run;
# big (about 1 GB with its libraries), for /usr/bin/python3
check="$check python3-torch"
demo="$build python3 python3-sklearn"
bench="$check parallel task-spooler miller hyperfine python3-optuna curl"
# make fuzz: clang with its libFuzzer, ASan and UBSan runtimes
fuzz="$build clang libclang-rt-dev"
# make static: musl, and what scripts/static-deps.sh builds the libraries with
static="$check musl-tools cmake dpkg-dev perl patch file linux-libc-dev binutils
ca-certificates openssl util-linux"
# the static build's service tests (t9060, t9070): a private sshd, and node
# with npm for the MongoDB wire-protocol server of scripts/mongo-up.sh
static="$static openssh-server openssh-client"

want=""
[ $# -eq 0 ] && set -- build
for set in "$@"; do
	case $set in
	build) want="$want $build" ;;
	check) want="$want $check" ;;
	demo) want="$want $demo" ;;
	bench) want="$want $bench" ;;
	fuzz) want="$want $fuzz" ;;
	static) want="$want $static" ;;
	*) echo "deps.sh: unknown set '$set'" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	case " $missing " in *" $p "*) continue ;; esac
	s=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$s" = installed ] || missing="$missing $p"
done
# node and npm may come from elsewhere than Debian's packages: a command
# that works is enough
case " $* " in *" static "* | *" bench "*)
	command -v node >/dev/null && command -v npm >/dev/null ||
	    missing="$missing nodejs npm" ;;
esac
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# The daemon packages (munge, slurmd, slurmctld, openssh-server) start the
# system's own daemon when installed, which the tests never use (they start
# private ones): without a policy that says no (Debian's containers ship
# one), one says so for the length of the install only.
policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then
	$sudo sh -c "printf '#!/bin/sh\\nexit 101\\n' >$policy && chmod 755 $policy"
	trap '$sudo rm -f $policy' EXIT
fi
if ! $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
	$sudo apt-get update -qq >/dev/null
	$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
