#!/usr/bin/env bash
# Seeds fuzz/corpus/TARGET/ (git-ignored; libFuzzer adds what it finds)
# from the repository: every .wf of conformance/, examples/ and stdlib/ for
# the script targets, fixture files for `fixture`, and fuzz/seeds/ for the
# rest. Idempotent: copies only what is missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

# seed TARGET FILE...: copies each file in under a name made from its path.
seed() {
  local target=$1
  shift
  mkdir -p "fuzz/corpus/$target"
  local f
  for f in "$@"; do
    local name=${f//\//_}
    [ -e "fuzz/corpus/$target/$name" ] || cp "$f" "fuzz/corpus/$target/$name"
  done
}

mapfile -t scripts < <(find conformance examples stdlib -name '*.wf' -type f | sort)
for t in parse compile run; do
  seed "$t" "${scripts[@]}"
done
mapfile -t fixtures < <(find conformance examples fuzz/seeds/fixture -name '*.jsonl' -type f | sort)
seed fixture "${fixtures[@]}"
mapfile -t policies < <(find fuzz/seeds/policy -type f | sort)
seed policy "${policies[@]}"
mapfile -t records < <(find fuzz/seeds/records -type f | sort)
seed records "${records[@]}"
mapfile -t json < <(find fuzz/seeds/json fuzz/seeds/policy fuzz/seeds/records -type f | sort)
seed json "${json[@]}"
