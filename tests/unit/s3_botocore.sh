#!/usr/bin/env bash
# botocore (Debian's python3-botocore) accepts our ListObjectsV2 answer:
# test_s3_xml dumps the url-encoded reply, botocore's RestXMLParser with
# the s3 model parses it, and its decode handler gives back the exact
# keys. No network. Skipped (77) without python3-botocore.
set -euo pipefail
build=${CS_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
python3 -c 'import botocore' 2>/dev/null || { echo "SKIP: python3-botocore not installed"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cs-s3xml.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
CK_RUN_CASE=writers CS_S3_XML_DUMP=$tmp/list.xml "$build/tests/unit/test_s3_xml" >/dev/null
python3 - "$tmp/list.xml" <<'PY'
import sys
import botocore.session
from botocore.parsers import RestXMLParser
from botocore.handlers import decode_list_object_v2

body = open(sys.argv[1], 'rb').read()
shape = botocore.session.get_session().get_service_model('s3') \
    .operation_model('ListObjectsV2').output_shape
parsed = RestXMLParser().parse({'body': body, 'headers': {}, 'status_code': 200}, shape)
assert 'Error' not in parsed, parsed
# what botocore does when it set encoding-type=url itself (awscli does)
decode_list_object_v2(parsed, {'encoding_type_auto_set': True})
keys = [c['Key'] for c in parsed['Contents']]
want = ['a&b<c>', 'dir/x y+z', 'bad\ufffdkey\u00e9']
assert keys == want, (keys, want)
assert parsed['Name'] == 'bkt' and parsed['KeyCount'] == 4 and parsed['MaxKeys'] == 3
assert parsed['IsTruncated'] is True and parsed['NextContinuationToken'] == 'next&tok'
assert parsed['StartAfter'] == 'a b' and parsed['Delimiter'] == '/'
assert [p['Prefix'] for p in parsed['CommonPrefixes']] == ['dir/']
c = parsed['Contents'][1]
assert c['ETag'] == '"ffff-2"' and c['Size'] == 10485760 and c['StorageClass'] == 'STANDARD'
assert c['LastModified'].isoformat() == '2026-12-01T15:40:09+00:00', c['LastModified']
print('ok - botocore parses ListObjectsV2 and decodes', len(keys), 'keys')
PY
