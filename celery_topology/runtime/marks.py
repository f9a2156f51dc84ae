"""Names the topology's runtime writes and others read.

`POLICY_MARK`: the attribute that `retries.apply_policy` stamps on a task, the route the topology
resolved for it; dead-letter capture reads it to learn the task's route (a task without it is not
the topology's). `PUBLISHED_HEADER`: the message header the router stamps with the publish time
(seconds since the epoch); the metrics read the oldest waiting message's age from it.
"""

POLICY_MARK = "_topology_resolution"
PUBLISHED_HEADER = "topology_published_at"
