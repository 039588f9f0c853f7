#!/usr/bin/env bash
# Development certificates for the retrieval gRPC service's TLS / mTLS (openssl only):
#   scripts/dev_certs.sh [DIR] [EXTRA_SAN ...]     (DIR default: deploy/certs)
# writes DIR/ca.pem (the CA: clients' CATALOG_GRPC_TLS_CA_FILE, the server's CATALOG_GRPC_TLS_CLIENT_CA_FILE),
# DIR/server.pem + server.key (CATALOG_GRPC_TLS_CERT_FILE / _KEY_FILE; names localhost, retrieve, retrieve-cpu,
# 127.0.0.1, ::1 and every EXTRA_SAN, e.g. DNS:search.example.com or IP:10.0.0.5) and DIR/client.pem + client.key
# (CATALOG_GRPC_TLS_CLIENT_CERT_FILE / _KEY_FILE). The CA key is deleted once both are signed. Keys are mode 0600,
# or DEV_CERT_KEY_MODE (the compose stack's containers run as uid 10001: DEV_CERT_KEY_MODE=0644 lets them read).
# For development and the compose stack on one machine; production certificates come from your own CA.
set -euo pipefail
dir=${1:-deploy/certs}
shift || true
days=${DEV_CERT_DAYS:-825}
san="DNS:localhost,DNS:retrieve,DNS:retrieve-cpu,IP:127.0.0.1,IP:::1"
for extra in "$@"; do san="$san,$extra"; done
mkdir -p "$dir"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
  -subj "/CN=catalog-search dev CA" -keyout "$tmp/ca.key" -out "$dir/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
sign() {   # name subject extensions
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$2" \
    -keyout "$dir/$1.key" -out "$tmp/$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$tmp/$1.ext"
  openssl x509 -req -in "$tmp/$1.csr" -CA "$dir/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days "$days" -extfile "$tmp/$1.ext" -out "$dir/$1.pem" 2>/dev/null
}
sign server "/CN=catalog-search retrieval" \
  "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$san"
sign client "/CN=catalog-search client" \
  "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
chmod 0644 "$dir/ca.pem" "$dir/server.pem" "$dir/client.pem"
chmod "${DEV_CERT_KEY_MODE:-0600}" "$dir/server.key" "$dir/client.key"
echo "wrote $dir/ca.pem, server.pem/.key, client.pem/.key (SAN $san)" >&2
