#!/usr/bin/env python3
"""Validate rendered kexpose output against the real Kyma CRD schemas (a manual check).

kexpose validates every object against its own schemas in schemas/ (written from the CRD facts).
This script cross-checks rendered trees against JSON renderings of the upstream CRDs, which a
user's clone does not have; it is not part of the test suite.

  python3 -m pip install jsonschema pyyaml
  scripts/validate-against-crds.py CRD_JSON_DIR OUT_DIR [OUT_DIR ...]

CRD_JSON_DIR holds apirule-v2.openapi.json, apirule-v2.strict.schema.json (CEL rules as
patterns) and istio-authorizers.openapi.json.
"""
import json
import pathlib
import sys

import jsonschema
import yaml


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    crds = pathlib.Path(sys.argv[1])
    apirule = [json.loads((crds / n).read_text()) for n in ("apirule-v2.openapi.json", "apirule-v2.strict.schema.json")]
    istio = json.loads((crds / "istio-authorizers.openapi.json").read_text())
    checks = failures = 0
    for out in sys.argv[2:]:
        for path in sorted(pathlib.Path(out).rglob("*.yaml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if not isinstance(doc, dict):
                    continue
                if doc.get("kind") == "APIRule":
                    pairs = [(s, doc) for s in apirule]
                elif doc.get("kind") == "Istio":
                    pairs = [(istio, doc["spec"]["config"]["authorizers"])]
                else:
                    continue
                for schema, instance in pairs:
                    checks += 1
                    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(instance))
                    if errors:
                        failures += 1
                        print(f"{path}: " + "; ".join(e.message for e in errors[:3]))
    print(f"{checks} checks, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
