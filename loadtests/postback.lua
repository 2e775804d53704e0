-- wrk: every request a distinct postback (unique txid), so none is answered as a duplicate.
local counter = 0
local thread_id = 0
function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end
function request()
  counter = counter + 1
  local tx = string.format("%s-%d-%d", tag, id, counter)
  return wrk.format("GET", "/postback?click_id=bench" .. id .. "&payout=1.50&currency=USD&txid=" .. tx)
end
function init(args)
  tag = args[1] or "bench"
end
