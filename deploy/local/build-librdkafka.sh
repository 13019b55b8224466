#!/usr/bin/env bash
# Builds librdkafka from Debian's source package into a project-local prefix, for machines whose
# system library is older than jobstream needs (Debian 12 ships 2.0.2, which fails against current
# brokers with "ApiVersionRequest failed: Local: Read underflow").
#
# The prefix holds only the static library, and its rdkafka.pc links it statically, so the services
# cannot pick up an older shared library at run time. The finished prefix is cached per version in
# ~/.cache/jobstream so a fresh clone on the same machine reuses it.
#
# Usage: build-librdkafka.sh PREFIX
set -euo pipefail

version=2.8.0
prefix=$(realpath -m "${1:?usage: build-librdkafka.sh PREFIX}")
cache=${XDG_CACHE_HOME:-$HOME/.cache}/jobstream/librdkafka-$version
stamp=$prefix/.jobstream-librdkafka-$version

if [ -f "$stamp" ]; then
  exit 0
fi

if [ -f "$cache/prefix/.jobstream-librdkafka-$version" ]; then
  echo "librdkafka $version: reusing the build cached in $cache"
  rm -rf "$prefix" && mkdir -p "$(dirname "$prefix")"
  cp -a "$cache/prefix" "$prefix"
  "$(dirname "$0")/write-rdkafka-pc.sh" "$prefix" "$version"
  exit 0
fi

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Build dependencies: compression and TLS libraries librdkafka links against, and the tools to
# fetch a Debian source package.
missing=()
for pkg in build-essential dpkg-dev pkg-config libssl-dev zlib1g-dev libzstd-dev liblz4-dev python3; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "librdkafka $version: installing build dependencies: ${missing[*]}"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

mkdir -p "$cache/src"
if [ ! -f "$cache/src/librdkafka_$version.orig.tar.gz" ]; then
  # Debian 13 (trixie) carries librdkafka 2.8.0 as a source package; a deb-src entry is enough.
  if ! grep -rqs "trixie" /etc/apt/sources.list /etc/apt/sources.list.d/ ; then
    echo "librdkafka $version: adding a deb-src entry for Debian trixie"
    as_root tee /etc/apt/sources.list.d/jobstream-trixie-src.sources >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    as_root apt-get update -q
  fi
  (cd "$cache/src" && apt-get source -q --download-only "librdkafka=$version-1")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$cache/src/librdkafka_$version.orig.tar.gz" -C "$work"
src=$work/librdkafka-$version
echo "librdkafka $version: building (about a minute on 2 cores)"
(
  cd "$src"
  ./configure --prefix="$cache/prefix" --disable-curl --disable-gssapi >"$work/configure.log" 2>&1 \
    || { tail -40 "$work/configure.log"; exit 1; }
  make -j"$(nproc)" libs >"$work/make.log" 2>&1 || { tail -40 "$work/make.log"; exit 1; }
  rm -rf "$cache/prefix"
  make -C src install >"$work/install.log" 2>&1 || { tail -40 "$work/install.log"; exit 1; }
  # rdkafka_performance, built from the same tree, is the baseline of `make bench-kafka`.
  make -C examples rdkafka_performance >"$work/examples.log" 2>&1 || { tail -40 "$work/examples.log"; exit 1; }
  mkdir -p "$cache/prefix/bin"
  cp examples/rdkafka_performance "$cache/prefix/bin/"
)
# Keep only the static library: nothing can then resolve librdkafka.so from this prefix.
rm -f "$cache/prefix"/lib/librdkafka*.so*
touch "$cache/prefix/.jobstream-librdkafka-$version"
rm -rf "$prefix" && mkdir -p "$(dirname "$prefix")"
cp -a "$cache/prefix" "$prefix"
"$(dirname "$0")/write-rdkafka-pc.sh" "$prefix" "$version"
echo "librdkafka $version: installed in $prefix"
