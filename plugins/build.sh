#!/usr/bin/env bash
# Rebuild the shipped plug-ins' .wasm files from source, or check the committed ones
# are current.
#
#   plugins/build.sh          rebuild plugins/<name>/<name>.wasm and print their sha256
#   plugins/build.sh --check  rebuild into a temp dir and compare with the committed files
#
# Plug-ins are no_std core modules for wasm32-unknown-unknown. The committed files were
# built with the toolchain named in plugins/TOOLCHAIN (Debian bookworm's rustc 1.63 with
# libstd-rust-dev-wasm32, linked by wasm-ld 14 from the lld package):
#   apt-get install rustc libstd-rust-dev-wasm32 lld
# Set WASM_RUSTC / WASM_LD to use others. A different compiler gives different (valid)
# bytes, so --check only compares when the compiler matches TOOLCHAIN, and otherwise
# says it skipped. Without a wasm32 rustc both modes print "skipped" and exit 0: the
# steward build and tests never need this script.
set -euo pipefail
cd "$(dirname "$0")"

PLUGINS=(keyword-classifier weather)
check=false
case "${1:-}" in
  --check) check=true ;;
  "") ;;
  *) echo "usage: plugins/build.sh [--check]" >&2; exit 2 ;;
esac

skip() { echo "plugins: skipped: $*"; exit 0; }

# --- find the toolchain ---------------------------------------------------------
has_wasm32() {
  local dir
  command -v "$1" >/dev/null || return 1
  dir="$("$1" --print target-libdir --target wasm32-unknown-unknown 2>/dev/null)" || return 1
  compgen -G "$dir/libcore-*.rlib" >/dev/null
}
RUSTC=""
if [[ -n "${WASM_RUSTC:-}" ]]; then candidates=("$WASM_RUSTC"); else candidates=(/usr/bin/rustc rustc); fi
for c in "${candidates[@]}"; do
  if has_wasm32 "$c"; then RUSTC="$c"; break; fi
done
[[ -n "$RUSTC" ]] || skip "no wasm32 rustc (tried ${candidates[*]}; install rustc + libstd-rust-dev-wasm32, or set WASM_RUSTC)"
LD="${WASM_LD:-}"
if [[ -z "$LD" ]]; then
  for c in wasm-ld-14 wasm-ld; do
    if command -v "$c" >/dev/null; then LD="$c"; break; fi
  done
fi
[[ -n "$LD" ]] || skip "no wasm-ld linker (install lld, or set WASM_LD)"

have="$("$RUSTC" --version) + $("$LD" --version | head -n1)"
want="$(grep -v '^#' TOOLCHAIN | head -n1)"
echo "plugins: toolchain: $have"
if $check && [[ "$have" != "$want" ]]; then
  skip "committed files were built with \`$want\`; this machine has \`$have\`"
fi

# --- build ------------------------------------------------------------------------
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
flags=(--edition 2021 --target wasm32-unknown-unknown
       -C opt-level=s -C codegen-units=1 -C panic=abort -C debuginfo=0 -C strip=symbols
       --remap-path-prefix "$PWD=plugins")
"$RUSTC" "${flags[@]}" --crate-type rlib --crate-name steward_guest \
  steward-guest/src/lib.rs --out-dir "$out"
for p in "${PLUGINS[@]}"; do
  crate="${p//-/_}"
  "$RUSTC" "${flags[@]}" --crate-type cdylib --crate-name "$crate" \
    -C linker="$LD" -C link-arg=-zstack-size=65536 -C lto \
    --extern steward_guest="$out/libsteward_guest.rlib" -L "$out" \
    "$p/src/lib.rs" -o "$out/$p.wasm"
done

# --- install or compare -----------------------------------------------------------
status=0
for p in "${PLUGINS[@]}"; do
  new="$(sha256sum "$out/$p.wasm" | cut -d' ' -f1)"
  if $check; then
    old="$(sha256sum "$p/$p.wasm" 2>/dev/null | cut -d' ' -f1 || true)"
    if [[ "$new" == "$old" ]]; then
      echo "plugins: checked: $p/$p.wasm is current ($new)"
    else
      echo "plugins: STALE: $p/$p.wasm is ${old:-missing}, source builds $new; run plugins/build.sh"
      status=1
    fi
  else
    cp "$out/$p.wasm" "$p/$p.wasm"
    # The shipped policy's copy: a policy names only files inside its policy tree.
    cp "$out/$p.wasm" "../policies/vk-shanghai-plugins/modules/$p.wasm"
    echo "plugins: built $p/$p.wasm sha256 $new ($(wc -c < "$p/$p.wasm") bytes)"
  fi
done
if ! $check; then
  echo "plugins: pin the digests above in the policies that use them (sha256 = \"...\")"
fi
exit $status
