#!/usr/bin/env python3
"""Writes the seed corpus: corpus/http/* (request streams; @0..@4 name the fuzz server's mocks)
and corpus/create/* (create bodies). Re-run after editing; files are small and named by content."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
H = "Host: h.test\r\n"


def post(headers, body, target="/v1/mock/@0"):
    return f"POST {target} HTTP/1.1\r\n{H}{headers}\r\n{body}"


def chunked(body, target="/v1/mock/@0"):
    return post("Transfer-Encoding: chunked\r\n", body, target)


GET = lambda t="/v1/mock/@0", extra="": f"GET {t} HTTP/1.1\r\n{H}{extra}\r\n"

http = {
    # valid
    "get_live": GET(),
    "get_each_mock": "".join(GET(f"/v1/mock/@{i}") for i in range(5)),
    "head_live": f"HEAD /v1/mock/@1 HTTP/1.1\r\n{H}\r\n",
    "get_unknown": GET("/v1/mock/nope"),
    "get_status": GET("/v1/status"),
    "get_metrics": GET("/metrics"),
    "http10": "GET /v1/mock/@0 HTTP/1.0\r\n\r\n",
    "http10_keepalive": "GET /v1/mock/@0 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + GET("/v1/mock/@1"),
    "close_then_more": GET("/v1/mock/@0", "Connection: close\r\n") + GET("/v1/mock/@1"),
    "absolute_form": GET("http://h.test/v1/mock/@0?x=1"),
    "sdk_template": GET("/v1/mock/%7Bmock_id%7D?mock_id=@2"),
    "leading_crlf": "\r\n\r\n" + GET(),
    "post_length": post("Content-Length: 5\r\n", "hello"),
    "post_chunked": chunked("5\r\nhello\r\n0\r\n\r\n"),
    "chunked_ext_trailer": chunked("5;a=b;c=\"d e\"\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: t\r\n\r\n"),
    "expect_continue": post("Expect: 100-continue\r\nContent-Length: 3\r\n", "abc"),
    "pipeline_mixed": GET("/v1/mock/@3") + GET("/v1/mock/@0") + chunked("3\r\nabc\r\n0\r\n\r\n", "/v1/mock/@4")
        + f"HEAD /v1/mock/@2 HTTP/1.1\r\n{H}\r\n" + post("Content-Length: 2\r\n", "xy", "/v1/mock/@1"),
    "pipeline_delays": "".join(GET(f"/v1/mock/@{3 + i % 2}") for i in range(20)),
    "create_authed": post("X-API-Key: fuzz-key\r\nContent-Type: application/json\r\nContent-Length: 17\r\n", '{"body": "made"}\n', "/v1/mocks"),
    "create_chunked": chunked('11\r\n{"status_code":201\r\n1\r\n}\r\n0\r\n\r\n', "/v1/mocks").replace(H, H + "Authorization: Bearer fuzz-key\r\n"),
    "list_authed": GET("/v1/mocks?limit=5", "X-API-Key: fuzz-key\r\n"),
    "delete_fixture": f"DELETE /v1/mocks/@0 HTTP/1.1\r\n{H}X-API-Key: fuzz-key\r\n\r\n" + GET(),
    "bad_key": GET("/v1/mocks/@0", "X-API-Key: nope\r\n"),
    "two_keys": GET("/v1/mocks/@0", "X-API-Key: a\r\nX-API-Key: b\r\n"),
    "options": f"OPTIONS /v1/mock/@0 HTTP/1.1\r\n{H}\r\n",
    "method_other": f"BREW /v1/mock/@0 HTTP/1.1\r\n{H}\r\n",
    # smuggling and malformed framing (one per hostile test case family)
    "cl_te": post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n") + GET(),
    "te_cl": post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n") + GET(),
    "cl_twice": post("Content-Length: 3\r\nContent-Length: 5\r\n", "abcde") + GET(),
    "cl_list": post("Content-Length: 5, 5\r\n", "abcde"),
    "cl_signed": post("Content-Length: +5\r\n", "abcde"),
    "cl_overflow": post("Content-Length: 18446744073709551616\r\n", ""),
    "cl_hex": post("Content-Length: 0x10\r\n", ""),
    "cl_empty": post("Content-Length:\r\n", ""),
    "cl_huge": post("Content-Length: 9999999999999999999\r\n", ""),
    "chunk_nonhex": chunked("g\r\nabc\r\n0\r\n\r\n"),
    "chunk_long": chunked("00000000000000001\r\na\r\n0\r\n\r\n"),
    "chunk_negative": chunked("-5\r\nhello\r\n0\r\n\r\n"),
    "chunk_max": chunked("ffffffffffffffff\r\n"),
    "chunk_ws_garbage": chunked("5 x\r\nhello\r\n0\r\n\r\n") + GET(),
    "chunk_overrun": chunked("5\r\nhelloX\r\n0\r\n\r\n"),
    "chunk_ext_ctl": chunked("5;a\x01b\r\nhello\r\n0\r\n\r\n"),
    "chunk_ext_long": chunked("5;" + "e" * 300 + "\r\nhello\r\n0\r\n\r\n"),
    "trailer_lf": chunked("0\r\nX-T: a\n\r\n"),
    "trailer_ctl": chunked("0\r\nX-T: a\x01\r\n\r\n"),
    "trailer_request_line": chunked("0\r\nGET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n"),
    "te_gzip": post("Transfer-Encoding: gzip\r\n", ""),
    "te_identity": post("Transfer-Encoding: identity\r\n", ""),
    "te_chunked_chunked": post("Transfer-Encoding: chunked, chunked\r\n", "0\r\n\r\n"),
    "te_chunked_param": post("Transfer-Encoding: chunked;q=1\r\n", "0\r\n\r\n"),
    "te_fold": post("Transfer-Encoding:\r\n chunked\r\n", "0\r\n\r\n"),
    "te_http10": "POST /v1/mock/@0 HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "bare_cr": "GET /\r HTTP/1.1\r\nHost: h\r\n\r\n",
    "bare_lf": "GET / HTTP/1.1\nHost: h\n\n",
    "leading_bare_lf": "\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    "nul_method": "G\x00ET / HTTP/1.1\r\nHost: h\r\n\r\n",
    "ctl_target": "GET /v1/\x01status HTTP/1.1\r\nHost: h\r\n\r\n",
    "nul_name": GET("/", "X-\x00A: b\r\n"),
    "ctl_value": GET("/", "X-A: a\x01b\r\n"),
    "obs_fold": GET("/", "X-A: a\r\n b\r\n"),
    "long_target": f"GET /{'a' * 9000} HTTP/1.1\r\n{H}\r\n",
    "many_headers": GET("/", "".join(f"X-H{i}: v\r\n" for i in range(101))),
    "big_head": GET("/", "X-Big: " + "b" * 17000 + "\r\n"),
    "h2_preface": "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "http09": "GET /\r\n\r\n",
    "expect_unknown": post("Expect: foo\r\nContent-Length: 1\r\n", "a"),
    "no_host": "GET / HTTP/1.1\r\n\r\n",
    "empty_lines_only": "\r\n" * 50,
}

create = {
    "empty_object": "{}",
    "full": '{"name": "n", "status_code": 201, "headers": {"X-A": "1", "Cache-Control": "no-store"}, '
            '"body": "hello", "content_type": "text/plain", "delay_ms": 10, "ttl_seconds": 120}',
    "status_204": '{"status_code": 204, "body": "dropped"}',
    "status_100": '{"status_code": 100}',
    "status_205": '{"status_code": 205, "body": "dropped"}',
    "status_304": '{"status_code": 304, "headers": {"ETag": "\\"x\\""}}',
    "unicode": '{"body": "h\\u00e9llo \\ud83d\\ude00", "headers": {"X-U": "caf\\u00e9"}}',
    "content_type_header": '{"headers": {"content-type": "text/html"}}',
    "nulls": '{"name": null, "status_code": null, "headers": null, "body": null}',
    "unknown_keys": '{"extra": [1, 2, {"a": null}], "body": "x"}',
    "header_crlf": '{"headers": {"X-A": "a\\r\\nSet-Cookie: x"}}',
    "header_lf": '{"headers": {"X-A": "a\\nb"}}',
    "header_nul": '{"headers": {"X-A": "a\\u0000b"}}',
    "header_name_space": '{"headers": {"X A": "b"}}',
    "header_name_colon": '{"headers": {"X:A": "b"}}',
    "header_content_length": '{"headers": {"Content-Length": "5"}}',
    "header_te": '{"headers": {"Transfer-Encoding": "chunked"}}',
    "header_date": '{"headers": {"Date": "x"}}',
    "header_dup_case": '{"headers": {"X-A": "1", "x-a": "2"}}',
    "header_leading_space": '{"headers": {"X-A": " v"}}',
    "content_type_crlf": '{"content_type": "text/plain\\r\\nX: y"}',
    "status_bad": '{"status_code": 99}',
    "status_float": '{"status_code": 200.5}',
    "status_string": '{"status_code": "200"}',
    "delay_negative": '{"delay_ms": -1}',
    "ttl_huge": '{"ttl_seconds": 99999999999999999999}',
    "dup_key": '{"body": "a", "body": "b"}',
    "not_object": "[1, 2]",
    "truncated": '{"body": "abc',
    "deep": "[" * 200 + "]" * 200,
    "body_big": '{"body": "' + "x" * 5000 + '"}',
    "headers_many": '{"headers": {' + ", ".join(f'"X-{i}": "v"' for i in range(20)) + "}}",
    "bom": '\ufeff{"body": "x"}',
    "whitespace": "  \n\t{ }  ",
}

for target, cases in (("http", http), ("create", create)):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, text in cases.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(text.encode("utf-8"))
    print(f"{target}: {len(cases)} files")
