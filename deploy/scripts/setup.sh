#!/usr/bin/env bash
# Installs everything the product needs from Debian's packages and the npm registry, then builds.
# Idempotent: skips apt when every package is present. Usage: setup.sh [build-dir] [target...]
# (targets: e.g. `demo` builds only what deploy/demo.sh runs; none builds everything).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
shift || true
targets=("$@")

packages=(
  g++ cmake make ccache pkg-config python3 python3-numpy
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libpqxx-dev libeigen3-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev libsodium-dev openssl
  libboost-dev libssl-dev libcpp-httplib-dev nlohmann-json3-dev libcli11-dev
  clang libclang-rt-14-dev
  # pgbench (tests/bench_service/write_benchmark) comes with postgresql-15; clang-format checks
  # the C++ style (CTest clang_format).
  postgresql postgresql-client clang-format postgresql-15-auto-failover prometheus-cpp-dev
  chromium chromium-driver fonts-dejavu-core
)
# Node.js: any installed build will do (this workplace ships one that bundles npm); else Debian's.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The web client, when present: dependencies from the npm registry, built into clients/web/dist.
if [ -f "$root/clients/web/package.json" ]; then
  echo "== building the web client"
  (cd "$root/clients/web" && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build)
fi

# The single sign-on tests' OpenID provider (tests/sso: oidc-provider from the npm registry).
if [ -f "$root/tests/sso/package.json" ] && [ ! -d "$root/tests/sso/node_modules" ]; then
  echo "== installing the test identity provider"
  (cd "$root/tests/sso" && npm ci --no-audit --no-fund --loglevel=error)
fi

# The PostgreSQL clusters (deploy/scripts/pg.sh, deploy/ha) keep their data and sockets under the
# checkout and run as the 'postgres' user, who must be able to pass through every folder above
# it. A checkout under /root or in a `mktemp -d` folder (mode 0700) is not passable: grant passage
# only (o+x: no listing, no reading) on such folders, and say so.
if [ "$(id -u)" = 0 ] && id postgres >/dev/null 2>&1; then
  folder=""
  IFS=/ read -r -a parts <<<"${root#/}"
  for part in "${parts[@]}"; do  # from the top down, so only the folders in the way change
    folder="$folder/$part"
    if ! runuser -u postgres -- test -x "$folder"; then
      echo "== letting the postgres user pass through $folder (chmod o+x) to reach the checkout's clusters"
      chmod o+x "$folder"
    fi
  done
fi

echo "== building into $build"
export CCACHE_DIR=${CCACHE_DIR:-$root/.var/ccache}
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
if [ ${#targets[@]} -gt 0 ]; then
  cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"
else
  cmake --build "$build" -j "$(nproc)"
fi
