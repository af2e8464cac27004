#!/usr/bin/env bash
# The GPU run, in one command, from the repository's root or anywhere:
#
#   bash benchmarks/gpu.sh DATASETS [--quick] [--out FILE] [--device cuda:1]
#
# DATASETS is a folder laid out like the project's shared datasets:
#   MNIST/raw/{train,t10k}-{images-idx3,labels-idx1}-ubyte   (FashionMNIST/raw/... too, optional)
#   cifar10-jpeg.tar.gz   holding train/<class>/*.jpg and test/<class>/*.jpg
# It is read, never written: MNIST is copied and CIFAR-10 unpacked into a scratch data folder
# ($GPU_BENCH_DATA, default a new temporary folder, removed at the end unless GPU_BENCH_DATA is set).
#
# Then benchmarks/gpu_report.py measures, on the GPU (or the CPU when there is none): LeNet-5's time
# to 99.0 % on MNIST and the chapter-07 CNN's time to 78 % on CIFAR-10, each with fit's default
# precision and with AMP off and on; fit's throughput against a plain DataLoader loop; and writes a
# markdown table naming the device (default gpu-results.md in the current folder; it is printed too).
# --quick: a tiny budget (subsets, one epoch), to test this script on a CPU in a minute or two.
#
# Python: $PYTHON if set, else the repository's .venv (made with `make install` when missing).
set -euo pipefail

usage() { echo "usage: bash benchmarks/gpu.sh DATASETS [--quick] [--out FILE] [--device DEVICE]" >&2; exit 2; }
[ $# -ge 1 ] || usage
case "$1" in -h|--help) sed -n '2,18p' "$0"; exit 0 ;; esac
src=$(cd "$1" && pwd) || usage
shift

repo=$(cd "$(dirname "$0")/.." && pwd)
out=gpu-results.md
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    --quick|--device|--seed) args+=("$1"); if [ "$1" != --quick ]; then [ $# -ge 2 ] || usage; args+=("$2"); shift; fi; shift ;;
    *) usage ;;
  esac
done
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

for f in MNIST/raw/train-images-idx3-ubyte MNIST/raw/train-labels-idx1-ubyte MNIST/raw/t10k-images-idx3-ubyte \
         MNIST/raw/t10k-labels-idx1-ubyte cifar10-jpeg.tar.gz; do
  [ -f "$src/$f" ] || { echo "gpu.sh: $src/$f is missing (see the layout at the top of $0)" >&2; exit 1; }
done

if [ -n "${GPU_BENCH_DATA:-}" ]; then
  data=$GPU_BENCH_DATA; mkdir -p "$data"
else
  data=$(mktemp -d "${TMPDIR:-/tmp}/cnn-book-gpu-data.XXXXXX")
  trap 'rm -rf "$data"' EXIT
fi
echo "gpu.sh: data folder $data"
for set in MNIST FashionMNIST; do
  if [ -d "$src/$set/raw" ] && [ ! -d "$data/$set/raw" ]; then
    mkdir -p "$data/$set" && cp -r "$src/$set/raw" "$data/$set/raw"
  fi
done
if [ ! -d "$data/cifar10/train" ]; then
  echo "gpu.sh: unpacking CIFAR-10 (60,000 JPEG files) ..."
  mkdir -p "$data/cifar10" && tar -xzf "$src/cifar10-jpeg.tar.gz" -C "$data/cifar10"
fi
[ -d "$data/cifar10/train" ] && [ -d "$data/cifar10/test" ] \
  || { echo "gpu.sh: $src/cifar10-jpeg.tar.gz did not hold train/ and test/" >&2; exit 1; }

python=${PYTHON:-$repo/.venv/bin/python}
if [ -z "${PYTHON:-}" ] && [ ! -x "$python" ]; then
  echo "gpu.sh: no .venv yet; running make install (once)"
  make -C "$repo" install
fi
"$python" -c 'import torch; print("gpu.sh: torch", torch.__version__, "| CUDA available:", torch.cuda.is_available())'

cd "$repo"
# Full mode (real data, never stand-ins); the whole machine's threads, not a test runner's one.
env -u OMP_NUM_THREADS CNN_BOOK_MODE=full CNN_BOOK_DATA="$data" \
  "$python" benchmarks/gpu_report.py --out "$out" ${args[@]+"${args[@]}"}
echo
cat "$out"
