-- POST /v3/auth/tokens: issue a token with the application_credential method (the token's
-- scope is the credential's project). Environment: BENCH_APP_CRED_ID, BENCH_APP_CRED_SECRET.
-- wrk -s token_issue_app_cred.lua http://HOST:PORT/v3/auth/tokens
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local json = require("json")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"auth": {"identity": {"methods": ["application_credential"], '
  .. '"application_credential": {"id": ' .. json.quote(json.env("BENCH_APP_CRED_ID"))
  .. ', "secret": ' .. json.quote(json.env("BENCH_APP_CRED_SECRET")) .. '}}}}'
