-- wrk script: POST pre-signed LINE deliveries from BODIES (a file of "signature<TAB>body" lines),
-- each thread taking every n-th line so no event id is sent twice.
local lines = {}
local index = 0

function setup(thread)
  thread:set("thread_id", setup_count or 0)
  setup_count = (setup_count or 0) + 1
end

function init(args)
  local path = os.getenv("BODIES")
  local threads = tonumber(os.getenv("THREADS") or "2")
  local n = 0
  for line in io.lines(path) do
    if n % threads == thread_id then
      -- Formatted once here, not per request: the load generator shares the two cores with the stack, and its
      -- own CPU per request is taken from what the stack could have used.
      local tab = line:find("\t", 1, true)
      lines[#lines + 1] = wrk.format("POST", "/api/webhook/line",
        { ["Content-Type"] = "application/json", ["x-line-signature"] = line:sub(1, tab - 1) }, line:sub(tab + 1))
    end
    n = n + 1
  end
end

function request()
  index = index + 1
  local item = lines[index]
  if item == nil then
    index = 1
    item = lines[1]  -- ran out: repeats are answered 200 as duplicates
  end
  return item
end
