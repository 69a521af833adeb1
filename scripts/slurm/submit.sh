#!/bin/bash
# Submits a leafbench run split into N Slurm array tasks, then the dependent evaluate job.
#   scripts/slurm/submit.sh CONFIG N [RESULTS]
# LEAFBENCH_CACHE must name a folder every node sees; LEAFBENCH names the binary if it is not
# on PATH; sbatch options go in its environment (SBATCH_PARTITION, SBATCH_ACCOUNT, …).
# Prints the two job ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage="usage: submit.sh CONFIG N [RESULTS]"
config=${1:?$usage}
n=${2:?$usage}
results=${3:-}
: "${LEAFBENCH_CACHE:?export LEAFBENCH_CACHE=a folder every node sees (NFS, Lustre)}"
export LEAFBENCH_SHARDS=$n
shards=$(sbatch --parsable --array=0-$((n - 1)) "$here/shards.sbatch" "$config")
shards=${shards%%;*}
evaluate=$(sbatch --parsable --dependency=afterok:"$shards" "$here/evaluate.sbatch" "$config" ${results:+"$results"})
echo "shards: $shards (array 0-$((n - 1)))"
echo "evaluate: ${evaluate%%;*} (after all shards succeed)"
