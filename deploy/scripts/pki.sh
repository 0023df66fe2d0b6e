#!/usr/bin/env bash
# Makes (once; idempotent) the local keys and certificates the product runs with:
#   pki.sh [DIR]            DIR defaults to .var/pki of the repository (git-ignored)
#   ca.pem, ca.key              a local certificate authority (10 years)
#   server.pem, server.key      the gRPC services' certificate: SAN 127.0.0.1, ::1, localhost and
#                               the names in $PKI_SERVER_NAMES (space-separated DNS names)
#   gateway.pem, gateway.key    the gateway's client certificate (CN "gateway", mutual TLS)
#   token-signing.pem           Ed25519 key that signs access tokens (case service only)
#   token-public.pem            its public key (every service verifies tokens with it)
# Private keys are mode 0600. Nothing here is ever committed; for real deployments use your own
# CA's certificates and keep the signing key in a secret store (see the README).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$root/.var/pki}
mkdir -p "$dir"
chmod 700 "$dir"
# One maker at a time (tests may ask for the same folder concurrently).
exec 9>"$dir/.lock"
flock 9

cd "$dir"
umask 077
if [ ! -s ca.pem ] || [ ! -s ca.key ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem \
    -days 3650 -subj "/CN=Jobcentre Forecast local CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  rm -f server.pem gateway.pem
fi

# issue NAME SUBJECT EXTENSIONS: a key and a certificate signed by the CA.
issue() {
  local name=$1 subject=$2 extensions=$3
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$name.key" -out "$name.csr" \
    -subj "$subject" 2>/dev/null
  printf '%b\n' "$extensions" >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$name.pem" -days 825 \
    -extfile "$name.ext" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

if [ ! -s server.pem ] || [ ! -s server.key ]; then
  sans="IP:127.0.0.1,IP:::1,DNS:localhost"
  for name in ${PKI_SERVER_NAMES:-}; do sans="$sans,DNS:$name"; done
  issue server "/CN=forecast-services" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\nsubjectAltName=$sans"
fi
if [ ! -s gateway.pem ] || [ ! -s gateway.key ]; then
  issue gateway "/CN=gateway" \
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=clientAuth"
fi
if [ ! -s token-signing.pem ]; then
  openssl genpkey -algorithm ed25519 -out token-signing.pem 2>/dev/null
  rm -f token-public.pem
fi
if [ ! -s token-public.pem ]; then
  openssl pkey -in token-signing.pem -pubout -out token-public.pem 2>/dev/null
fi
chmod 600 ./*.key token-signing.pem
chmod 644 ca.pem server.pem gateway.pem token-public.pem
echo "$dir"
