-- Argo CD health of a vps.org VpsServer, from the operator's kstatus conditions (Ready,
-- Reconciling, Stalled, Synced). Argo CD has no generic health for custom resources, so
-- without this a VpsServer shows no health at all. Runs with only Lua's base and table
-- libraries, as Argo CD runs argocd-cm checks: no string.* here.
--   Suspended    Ready=False Suspended (VPS.org suspended the server) or Paused (vps.org/paused)
--   Degraded     Stalled=True otherwise: only a human can fix it (credits, token, a rejected field)
--   Healthy      Ready=True, for the current generation
--   Progressing  everything else: creating, provisioning, a transient failure being retried
local hs = { status = "Progressing", message = "Waiting for the operator to report status" }

local function describe(c)
  if c.message ~= nil and c.message ~= "" then
    return c.reason .. ": " .. c.message
  end
  return c.reason or ""
end

if obj.status == nil or obj.status.conditions == nil then
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and (obj.status.observedGeneration == nil or obj.status.observedGeneration < generation) then
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end

local ready, stalled
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then ready = c end
  if c.type == "Stalled" then stalled = c end
end

-- Suspended and Paused are Stalled too (waiting will not move them on), but Argo CD has a
-- status of its own for them.
if ready ~= nil and ready.status ~= "True" and (ready.reason == "Suspended" or ready.reason == "Paused") then
  hs.status = "Suspended"
  hs.message = describe(ready)
elseif stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = describe(stalled)
elseif ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready)
elseif ready ~= nil then
  hs.message = describe(ready)
end
return hs
