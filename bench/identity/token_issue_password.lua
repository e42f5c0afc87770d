-- POST /v3/auth/tokens: issue a project-scoped token with the password method.
-- Environment: BENCH_USER, BENCH_PASSWORD, BENCH_PROJECT (all in domain "default").
-- wrk -s token_issue_password.lua http://HOST:PORT/v3/auth/tokens
package.path = debug.getinfo(1, "S").source:match("^@?(.*/)") .. "?.lua;" .. package.path
local json = require("json")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"auth": {"identity": {"methods": ["password"], "password": {"user": {'
  .. '"name": ' .. json.quote(json.env("BENCH_USER")) .. ', "domain": {"id": "default"}, '
  .. '"password": ' .. json.quote(json.env("BENCH_PASSWORD")) .. '}}}, '
  .. '"scope": {"project": {"name": ' .. json.quote(json.env("BENCH_PROJECT"))
  .. ', "domain": {"id": "default"}}}}}'
