-- Shared helpers for the object storage wrk scripts (wrk's LuaJIT has no JSON or env helpers).
-- Environment: BENCH_TOKEN (X-Auth-Token of every request; Swift API scripts only).
local M = {}

function M.env(name)
  local v = os.getenv(name)
  if v == nil or v == "" then
    error(name .. " is not set")
  end
  return v
end

-- setup(thread) for every script: number the threads 1..N (a global `tid` in each thread);
-- M.threads keeps them for done(), which runs in the main state and reads them with thread:get
local next_tid = 0
M.threads = {}
function M.setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  M.threads[next_tid] = thread
end

-- the lines of a file, in a table; an error when it has none
function M.read_lines(path)
  local t = {}
  for line in io.lines(path) do
    if line ~= "" then t[#t + 1] = line end
  end
  if #t == 0 then error(path .. " has no lines") end
  return t
end

function M.auth()
  wrk.headers["X-Auth-Token"] = M.env("BENCH_TOKEN")
end

return M
