#!/usr/bin/env bash
# Installs what cstash needs from Debian's packages (bookworm or later).
#   scripts/deps.sh build   compilers, autotools, the -dev libraries
#   scripts/deps.sh test    plus the tools the test suite runs
# Only packages that are missing are installed; uses sudo when not root.
set -euo pipefail

build_pkgs=(build-essential autoconf automake pkg-config
    libmicrohttpd-dev libgnutls28-dev libcrypt-dev libcurl4-openssl-dev libssl-dev libhiredis-dev
    libsqlite3-dev libzstd-dev libconfig-dev libexpat1-dev check)
# Real clients for the e2e tests: Bazel, Gradle (on the JDK it pulls in),
# rclone; Node.js installs the opendal library that sccache uses (a
# Node.js that is already there, with its own npm, is kept).
# openssl makes the test CA; apache2-utils has htpasswd; clang and its
# runtime build the libFuzzer targets.
# linux-source-6.1 with flex, bison, bc and libelf-dev: a real code base
# compiled through cstash (tests/e2e/cstash_kernel.sh).
# redis-server backs the redis tier's tests (s3rver comes from npm, at
# test time); zstd checks bodies sent as stored; nginx (WebDAV) is an
# upstream of the http tier; litmus (neon's WebDAV test suite) checks our
# WebDAV against the RFC (tests/integration/litmus.sh).
# clang-format, clang-tidy and cppcheck: the style check (scripts/lint.sh,
# make lint, tests/lint.sh).
# awscli, s3cmd and python3-boto3: real S3 clients for the S3 front end's
# tests (tests/integration/s3_*.sh; rclone above is the fourth, npm opendal
# the fifth, installed at test time).
# chromium (headless) with a font loads the status page /_/ as a browser
# does, dumps its DOM and takes its screenshot (tests/integration/status_page.sh).
# distcc (client and distccd): CSTASH_PREFIX=distcc against a real distccd
# on loopback (tests/integration/cstash_distcc.sh).
# rustc and cargo with the librust-*-dev crate sources (a directory source
# under /usr/share/cargo/registry; no network): the cargo workspace that
# tests/integration/cstash_rust.sh builds through cstash as RUSTC_WRAPPER
# (serde_json, regex, clap with its derive macros). 'librust-regex+default-dev'
# is the regex crate's "default" feature (Debian packages features apart).
# dpkg-dev, debhelper, fakeroot and lintian build and check the .debs
# (debian/, tests/e2e/debian_package.sh).
test_pkgs=(curl ccache systemd procps iproute2 bazel-bootstrap gradle rclone
    openssl apache2-utils python3 clang libclang-rt-dev
    make cmake g++ linux-source-6.1 flex bison bc libelf-dev
    redis-server zstd nginx litmus
    clang-format clang-tidy cppcheck
    awscli s3cmd python3-boto3
    distcc
    dpkg-dev debhelper fakeroot lintian
    chromium fonts-dejavu-core
    rustc cargo librust-serde-json-dev librust-regex-dev librust-regex+default-dev librust-clap-dev)
command -v npm >/dev/null || test_pkgs+=(nodejs npm)

want=()
for set in "$@"; do
    case $set in
        build) want+=("${build_pkgs[@]}") ;;
        test) want+=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
        *) echo "usage: $0 build|test..." >&2; exit 2 ;;
    esac
done

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
fi
echo "deps: installing ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
