#!/usr/bin/env bash
# Writes PREFIX/lib/pkgconfig/rdkafka.pc so that `-lrdkafka` resolves to PREFIX's static library,
# followed by the libraries it needs. SwiftPM reads only the plain Libs line, not Libs.private.
set -euo pipefail
prefix=$1 version=$2
mkdir -p "$prefix/lib/pkgconfig"
cat >"$prefix/lib/pkgconfig/rdkafka.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: librdkafka
Description: The Apache Kafka C library (static, built for jobstream)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -lrdkafka -lssl -lcrypto -lzstd -llz4 -lz -lm -ldl -lpthread -lrt
PC
touch "$prefix/.jobstream-librdkafka-$version"
