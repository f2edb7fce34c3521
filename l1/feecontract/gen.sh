#!/usr/bin/env bash
# Rebuilds the fee contract's committed artifacts from FeeContract.sol
# (docs/l1.md, "The fee contract"):
#
#   FeeContract.abi   the ABI (JSON, one line)
#   FeeContract.bin   the creation bytecode (hex, no 0x, one line)
#   feecontract.go    Go bindings from go-ethereum's abigen (bind v2)
#
# Needs node/npx (solc comes from the npm registry, pinned below) and Go; abigen is
# run at the go-ethereum version of go.mod. With an argument, writes the three
# files into that directory instead (the reproduction test uses this).
set -euo pipefail

SOLC_VERSION=0.8.37

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out"
out=$(cd "$out" && pwd)
cd "$here"

geth_version=$(go list -m -f '{{.Version}}' github.com/ethereum/go-ethereum)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Standard JSON input: optimizer on, a fixed EVM version, and no metadata
# trailer, so the bytecode depends only on the source and the compiler.
node -e '
const fs = require("fs");
process.stdout.write(JSON.stringify({
  language: "Solidity",
  sources: { "FeeContract.sol": { content: fs.readFileSync("FeeContract.sol", "utf8") } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    evmVersion: "cancun",
    metadata: { appendCBOR: false },
    outputSelection: { "FeeContract.sol": { FeeContract: ["abi", "evm.bytecode.object"] } },
  },
}));
' > "$work/input.json"

npx --yes "solc@$SOLC_VERSION" --standard-json < "$work/input.json" > "$work/output.json"

node -e '
const fs = require("fs");
// solcjs may print notes (">>> Cannot retry compilation with SMT ...") before the JSON.
const text = fs.readFileSync(process.argv[1], "utf8");
const out = JSON.parse(text.slice(text.indexOf("{")));
const errors = (out.errors || []).filter((e) => e.severity === "error");
if (errors.length > 0) {
  for (const e of errors) console.error(e.formattedMessage || e.message);
  process.exit(1);
}
const c = out.contracts["FeeContract.sol"].FeeContract;
fs.writeFileSync(process.argv[2] + "/FeeContract.abi", JSON.stringify(c.abi) + "\n");
fs.writeFileSync(process.argv[2] + "/FeeContract.bin", c.evm.bytecode.object + "\n");
' "$work/output.json" "$out"

go run "github.com/ethereum/go-ethereum/cmd/abigen@$geth_version" --v2 \
  --abi "$out/FeeContract.abi" --bin "$out/FeeContract.bin" \
  --pkg feecontract --type FeeContract --out "$out/feecontract.go"
chmod 644 "$out/FeeContract.abi" "$out/FeeContract.bin" "$out/feecontract.go"
echo "gen.sh: wrote $out/FeeContract.abi, FeeContract.bin and feecontract.go (solc $SOLC_VERSION, abigen $geth_version)"
