#!/usr/bin/env bash
# Fetches the plotting library that `genoforest report` inlines into its HTML (Vega and Vega-Lite,
# BSD-3-Clause, from the npm registry), checks each tarball against its pinned SHA-256, and keeps
# the two minified bundles and their licences in third_party/js/ (not in git). The build embeds
# them in the binary, so a report opens offline and the installed program needs no network.
# Run by scripts/install-deps.sh; idempotent (quick when the files are present).
#   scripts/fetch-js.sh [DEST]      (DEST: third_party/js by default)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/third_party/js}
registry=${NPM_REGISTRY:-https://registry.npmjs.org}
# name version sha256-of-the-npm-tarball
packages=(
  "vega 5.33.0 7b61f992d1a1e196e7f2eeb3d6176e5694949d0d4bbfea237a842d523dd6e1f3"
  "vega-lite 5.23.0 e4cbfdd8f6f1abe381c59cd558fd6a559c12b1496bfdf2e0c3295263a40fe4da"
)
mkdir -p "$dest"
for entry in "${packages[@]}"; do
  read -r name version sum <<<"$entry"
  stamp="$dest/$name.version"
  if [[ -s "$dest/$name.min.js" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then continue; fi
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  url="$registry/$name/-/$name-$version.tgz"
  if ! curl -fsSL --retry 3 -o "$tmp/p.tgz" "$url"; then
    echo "fetch-js: cannot download $url (genoforest report needs it; check the network or set NPM_REGISTRY)" >&2
    exit 1
  fi
  if [[ "$(sha256sum "$tmp/p.tgz" | cut -d' ' -f1)" != "$sum" ]]; then
    echo "fetch-js: $url does not have the expected SHA-256 $sum; refusing it" >&2
    exit 1
  fi
  tar -xzf "$tmp/p.tgz" -C "$tmp" "package/build/$name.min.js" package/LICENSE
  mv "$tmp/package/build/$name.min.js" "$dest/$name.min.js.part"
  mv "$tmp/package/LICENSE" "$dest/$name.LICENSE"
  mv "$dest/$name.min.js.part" "$dest/$name.min.js"
  echo "$version" > "$stamp"
  rm -rf "$tmp"
  trap - EXIT
  echo "fetch-js: $name $version -> $dest/$name.min.js"
done
