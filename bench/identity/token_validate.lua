-- GET /v3/auth/tokens: validate BENCH_TOKEN with itself (X-Auth-Token = X-Subject-Token).
-- wrk -s token_validate.lua http://HOST:PORT/v3/auth/tokens
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local json = require("json")
local token = json.env("BENCH_TOKEN")

wrk.method = "GET"
wrk.headers["X-Auth-Token"] = token
wrk.headers["X-Subject-Token"] = token
