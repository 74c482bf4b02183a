#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 10: the short run of `make check`; `make fuzz`
# runs 300). Skipped (exit 77) when clang or its fuzzer runtime is missing.
# A crash leaves its input in $FUZZ_OUT (default: a temp dir) and fails.
set -euo pipefail
src=${CS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${CS_BUILDDIR:-$src}
seconds=${FUZZ_SECONDS:-10}
CC_FUZZ=${CC_FUZZ:-clang}
command -v "$CC_FUZZ" >/dev/null || { echo "SKIP: $CC_FUZZ not installed"; exit 77; }
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
    >"${TMPDIR:-/tmp}/cs-fuzz-probe.c"
"$CC_FUZZ" -fsanitize=fuzzer "${TMPDIR:-/tmp}/cs-fuzz-probe.c" -o "${TMPDIR:-/tmp}/cs-fuzz-probe" 2>/dev/null ||
    { echo "SKIP: $CC_FUZZ cannot build libFuzzer targets (install libclang-rt-dev)"; exit 77; }

out=${FUZZ_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/cstash-fuzz.XXXXXX")}
mkdir -p "$out"
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$src" -I"$build" $(pkg-config --cflags libconfig expat libcrypto libzstd))
libs=($(pkg-config --libs libconfig expat libcrypto libzstd) -lcrypt)
common=("$src"/common/{base64,buf,checksum,hex,log,sha256,size,status}.c
        "$src"/storage/sigv4.c "$src"/server/{s3_sigv4,s3_chunked}.c
        "$src"/server/{config,config_listen,config_read,config_reload,config_s3,config_tiers,config_users}.c
        "$src"/server/{key,route,credentials,destination,propfind,text,s3_xml,s3_xml_parse}.c
        "$src"/client/{args,args_cc1,args_files,args_long,args_prefix_map,blob,http_response,ppscan,util}.c
        "$src"/client/{rust_depinfo,rust_paths,rust_result}.c)

seed() { # seed TARGET TEXT...: the starting corpus
    local dir=$out/corpus-$1 i=0
    mkdir -p "$dir"
    shift
    for t in "$@"; do printf '%s' "$t" >"$dir/seed$((i += 1))"; done
}
seed key 'a/b/c' '%2e%2e/x' 'ac/0123456789abcdef' 'x%00y' 'dir/' 'a//b' '%zz'
seed credentials 'Basic YWxpY2U6cHc=' 'Bearer abc.def' 'basic YWxp_2U6cHc-' 'Digest x' 'Basic'
seed propfind '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>' \
    '<propfind xmlns="DAV:"><allprop/></propfind>' '<propfind xmlns="DAV:"><propname/></propfind>'
# the first byte picks the parser: '0' DeleteObjects, '1' Complete, '2' CreateBucket
seed s3_xml '0<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key><VersionId>null</VersionId></Object></Delete>' \
    '1<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>1</PartNumber><ETag>"a54357aff0632cce46d942af68356b38"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><PartNumber>2</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>' \
    '2<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>'
seed destination "$(printf 'http://h/ns/dst\nh')" '/ns/a%20b' "$(printf 'http://other:1/ns/x\nh:2')" '/other/x'
seed config 'namespaces = ( { name = "a"; read = [ "*" ]; } );' \
    'users = ( { name = "u"; token_sha256 = "00"; } ); limits = { connections = 5; }; namespaces = ( { name = "n"; write = [ "u" ]; } );' \
    'listen = [ "https://[::1]:0" ]; tls_cert = "c"; tls_key = "k"; namespaces = ( { name = "x"; admin = [ "@authenticated" ]; } );'

seed blob CSR1 CSM1 CSR1xxxxxxxxxxxxxxxx
# Real blobs (a result and a manifest) from the built cstash, when there is one.
if [ -x "$build/client/cstash" ] && command -v gcc >/dev/null; then
    mkdir -p "$out/seedsrc"
    printf '#include <stdio.h>\nint main(void) { int unused; puts("x"); return 0; }\n' >"$out/seedsrc/s.c"
    sleep 0.1
    (cd "$out/seedsrc" && CSTASH_DIR=$out/seedcache CSTASH_CONFIG=$out/no-such.conf \
        "$build/client/cstash" gcc -Wall -MD -c s.c -o s.o 2>/dev/null) || true
    find "$out/seedcache" -name '*.[RM]' -exec cp {} "$out/corpus-blob/" \; 2>/dev/null || true
fi
# Rust: a record, a dep-info, a text with the roots (fuzz_rust.c)
seed rust $'\x00CSU1' $'\x01/ws/x/target/debug/deps/u.d: src/lib.rs /w/a\\ b\n\n# env-dep:OUT_DIR=/o\n' \
    $'\x02{"artifact":"/ws/x/target/debug/deps/libu.rmeta"} /ws/xy \x01 /ws/x'
if [ -d "$out/seedcache" ]; then
    find "$out/seedcache" -name '*.R' | while read -r f; do { printf '\x00'; cat "$f"; } >"$out/corpus-rust/$(basename "$f")"; done
fi
# The first bytes choose the limits, HEAD or not, the end of the
# connection and the read sizes (fuzz_http_response.c).
http=$'\xff\xff\xff\x02\x04\x07'
seed http_response "${http}"$'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello' \
    "${http}"$'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nT: 1\r\n\r\n' \
    "${http}"$'HTTP/1.0 200 OK\nServer: x\n\nuntil the end' \
    "${http}"$'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' \
    $'\x20\x40\x10\x03\x05\x01\x02HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\n\r\n'
seed ppscan "$(printf '# 1 "/base/p/a.c"\n# 0 "/base/p//"\n#line 3 "/usr/x.h" 2\nint x;\n')" \
    '-c a.c -o /base/p/o.o -MD -Wp,-MMD,x.d -I/base/p/inc'

# aws-chunked: mode/trailer byte, slice size, decoded-length byte, then the body
sig=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648
seed s3_chunked $'\x00\x01\x00'"5;chunk-signature=$sig"$'\r\nhello\r\n0;chunk-signature='"$sig"$'\r\n\r\n' \
    $'\x04\x03\x0d5\r\nHello\r\n8\r\n, World!\r\n0\r\nx-amz-checksum-crc32:7ErD0A==\r\n\r\n' \
    $'\x01\x00\x00a;x=y\r\n0123456789\r\n0\r\n\r\n' \
    $'\x02\x07\x00'"0;chunk-signature=$sig"$'\r\nx-amz-trailer-signature:'"$sig"$'\r\n\r\n'
# SigV4 requests: method, raw path, raw query, then name:value headers
cred='AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request'
seed s3_sigv4 "$(printf 'GET\n/test.txt\n\nHost:examplebucket.s3.amazonaws.com\nRange:bytes=0-9\nx-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-amz-date:20130524T000000Z\nAuthorization:AWS4-HMAC-SHA256 Credential=%s,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41' "$cred")" \
    "$(printf 'GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=%s&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404\nHost:examplebucket.s3.amazonaws.com' "${cred//\//%2F}")" \
    "$(printf 'PUT\n/b/a%%20b\nuploads\nAuthorization:AWS AKIAIOSFODNN7EXAMPLE:x=\nDate:Fri, 24 May 2013 00:00:00 GMT')"

# libconfig 1.5 leaks a buffer on some syntax errors: its leak, not ours
export LSAN_OPTIONS="suppressions=$src/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
failed=0
for t in key credentials propfind destination config blob ppscan http_response s3_xml s3_chunked s3_sigv4 rust; do
    "$CC_FUZZ" "${flags[@]}" "$src/tests/fuzz/fuzz_$t.c" "${common[@]}" "${libs[@]}" -o "$out/fuzz_$t"
    if "$out/fuzz_$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
        -artifact_prefix="$out/crash-$t-" -print_final_stats=1 "$out/corpus-$t" \
        >"$out/fuzz_$t.log" 2>&1; then
        echo "ok - fuzz_$t: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/fuzz_$t.log" | grep -o '[0-9]*$') runs in ${seconds} s, no crash"
    else
        echo "FAIL: fuzz_$t found a crash (input in $out):"
        tail -n 30 "$out/fuzz_$t.log"
        failed=1
    fi
done
[ -n "${FUZZ_OUT:-}" ] || [ $failed = 1 ] || rm -rf "$out"
exit $failed
