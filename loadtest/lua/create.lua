-- Control API creates over keep-alive: a realistic ~200-byte body (name, status, 2 headers,
-- body). The API key comes from the command line (-H). The request is static, so wrk
-- builds it once.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"name":"checkout-service create order ok","status_code":201,' ..
   '"headers":{"X-Request-Source":"loadtest","Cache-Control":"no-store"},' ..
   '"body":"{\\"order_id\\": 12345, \\"status\\": \\"created\\"}",' ..
   '"delay_ms":0,"ttl_seconds":3600}'
