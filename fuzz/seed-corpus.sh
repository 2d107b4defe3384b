#!/usr/bin/env bash
# Seed the fuzz corpora from the fixtures and the bad-input cases:
#   fuzz/corpus/compile_bytes/  every fixtures/*/kexpose.yaml, tests/bad/*.yaml, tests/hostile/*.yaml
#   fuzz/corpus/mutate_spec/    the same files (their bytes drive the mutator's choices)
# Run from anywhere; existing corpus files are kept.
set -euo pipefail
cd "$(dirname "$0")"
for target in compile_bytes mutate_spec; do
  mkdir -p "corpus/$target"
  for f in ../fixtures/*/kexpose.yaml ../tests/bad/*.yaml ../tests/hostile/*.yaml; do
    name="$(echo "$f" | sed 's#^\.\./##; s#/#_#g')"
    cp "$f" "corpus/$target/$name"
  done
done
echo "seeded: $(ls corpus/compile_bytes | wc -l) files per target"
